import net, { type AddressInfo } from 'node:net';

export interface SlowMail {
  to: string;
  subject: string;
  /** When the message's data arrived (before the slow answer), and when the answer went out. */
  receivedAt: number;
  acceptedAt: number | null;
}

/**
 * A minimal SMTP server that takes `delayMs` to accept each message, as a slow or overloaded relay
 * does (0: at once). Meanwhile it sends continuation lines ("250-…") every second, so the client's
 * inactivity timeout does not end the send first. Every message is recorded when its data arrives,
 * so a second send of the same message shows up while the first is still being answered. After
 * `hang()`, it takes a message's data and never answers, as a relay that stalls mid-send: the
 * moment at which an instance that dies may leave a message half-sent.
 */
export class SlowSmtpServer {
  readonly mails: SlowMail[] = [];
  private hanging = false;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(public delayMs: number) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): SlowMail[] {
    return this.mails.filter((m) => m.to === address.toLowerCase());
  }

  /** Messages answered "250": these went out. */
  get accepted(): SlowMail[] {
    return this.mails.filter((m) => m.acceptedAt !== null);
  }

  /** Messages whose data arrived and which have not been answered (yet, or ever after hang()). */
  get held(): SlowMail[] {
    return this.mails.filter((m) => m.acceptedAt === null);
  }

  /** From now on, messages are taken and never answered. */
  hang(): void {
    this.hanging = true;
  }

  async start(): Promise<this> {
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    let buffer = '';
    let inData = false;
    let data: string[] = [];
    let rcpt = '';
    const reply = (line: string) => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    reply('220 slow.test ESMTP');

    const acceptSlowly = (mail: SlowMail) => {
      if (this.hanging) return;
      if (this.delayMs <= 0) {
        mail.acceptedAt = Date.now();
        return reply('250 OK queued');
      }
      const ticker = setInterval(() => reply('250-still working'), 1000);
      setTimeout(() => {
        clearInterval(ticker);
        mail.acceptedAt = Date.now();
        reply('250 OK queued');
      }, this.delayMs);
    };

    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line !== '.') {
            data.push(line);
            continue;
          }
          inData = false;
          const subject = data.find((l) => /^subject:/i.test(l))?.replace(/^subject:\s*/i, '') ?? '';
          const mail: SlowMail = { to: rcpt, subject, receivedAt: Date.now(), acceptedAt: null };
          this.mails.push(mail);
          data = [];
          acceptSlowly(mail);
          continue;
        }
        const command = line.slice(0, 4).toUpperCase();
        if (command === 'EHLO' || command === 'HELO') reply('250 slow.test');
        else if (command === 'MAIL') reply('250 OK');
        else if (command === 'RCPT') {
          rcpt = (/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase();
          reply('250 OK');
        } else if (command === 'DATA') {
          inData = true;
          reply('354 go ahead');
        } else if (command === 'RSET' || command === 'NOOP') reply('250 OK');
        else if (command === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 not implemented');
      }
    });
  }
}
