import { defineModule } from '../module';
import { createMailTransport, type MailTransport } from './mail.transport';
import { MailWorker } from './mail.worker';
import { Migration20261129110000 } from './Migration20261129110000';
import { OutboxEmail } from './outbox-email.entity';

declare module '../module' {
  interface AppServices {
    mailTransport: MailTransport;
    mailWorker: MailWorker;
  }
}

export const mailModule = defineModule({
  name: 'mail',
  entities: [OutboxEmail],
  migrations: [{ name: 'Migration20261129110000', class: Migration20261129110000 }],
  services({ config, logger, orm, onStop }) {
    const mailTransport = createMailTransport(config.smtpUrl, config.mailFrom, logger);
    onStop(() => mailTransport.close());
    return { mailTransport, mailWorker: new MailWorker(orm, mailTransport, logger, config.mail) };
  },
  workers: (services) => [services.mailWorker],
  // Mail queued in a transaction goes out as soon as it commits, not at the next poll.
  wakeOnCommit: [{ entity: OutboxEmail, wake: (services) => services.mailWorker.kick() }],
});
