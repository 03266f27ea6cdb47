import { Query, Resolver } from 'type-graphql';
import { Public } from '../../src/graphql/access';
import { modules } from '../../src/modules';
import { defineModule, type AppServices, type Worker } from '../../src/modules/module';
import { Policy } from '../../src/modules/rate-limit/rate-limit.policies';
import { codes } from '../support/graphql';
import { sharedPerFile, startTestApp } from '../support/test-app';

// A module written the way the README says: one object, added to the list. Nothing else changes.
class Pinger {
  replies = 0;
  reply(): string {
    this.replies++;
    return 'pong';
  }
}

const ticks: string[] = [];
class PingWorker implements Worker {
  start(): void {
    ticks.push('started');
  }
  async stop(): Promise<void> {
    ticks.push('stopped');
  }
}

type PingServices = AppServices & { pinger: Pinger };

@Resolver()
class PingResolver {
  constructor(private readonly services: AppServices) {}

  @Public()
  @Policy({ rateLimits: [{ scope: 'ip', max: 2, per: 60 }] })
  @Query(() => String, { description: 'Answers pong.' })
  ping(): string {
    return (this.services as PingServices).pinger.reply();
  }
}

@Resolver()
class UndeclaredResolver {
  @Query(() => String, { description: 'Declares no access.' })
  forgotten(): string {
    return 'open by omission';
  }
}

const pingModule = defineModule({
  name: 'ping',
  resolvers: [PingResolver],
  services: () => ({ pinger: new Pinger() }) as Partial<AppServices>,
  workers: () => [new PingWorker()],
});

const shared = sharedPerFile();

describe('a module', () => {
  it('plugs in with one entry in the list: its resolvers, services, declared limits and workers', async () => {
    const t = await startTestApp({ ...shared, modules: [...modules, pingModule] });
    try {
      expect(ticks).toEqual(['started']);
      expect((await t.gql('{ ping }')).data).toEqual({ ping: 'pong' });
      expect((await t.gql('{ ping }')).data).toEqual({ ping: 'pong' });
      // Its declared limit applies as any other: 2 a minute per address.
      expect(codes(await t.gql('{ ping }'))).toEqual(['RATE_LIMITED']);
      expect((t.app.services as PingServices).pinger.replies).toBe(2);
      // The rest of the API is all there.
      expect((await t.gql('{ me { id } }')).data).toEqual({ me: null });
    } finally {
      await t.stop();
    }
    expect(ticks).toEqual(['started', 'stopped']);
  });

  it('whose root field declares neither @Public() nor @Authorized() stops the app from starting', async () => {
    const careless = defineModule({ name: 'careless', resolvers: [UndeclaredResolver] });
    await expect(startTestApp({ ...shared, modules: [...modules, careless] })).rejects.toThrow(/forgotten/);
  });
});
