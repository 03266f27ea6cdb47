import { ChangeSetType, type EntityClass, type EventSubscriber, type FlushEventArgs, type TransactionEventArgs } from '@mikro-orm/core';

type Hook = () => void;

/**
 * Runs hooks once the rows that call for them are committed: a module says "when an OutboxEmail is
 * created, wake the mail worker", and no service has to remember to do it. A flush outside a
 * transaction has committed by the time it ends; inside one, the hooks wait for its commit and are
 * dropped with a rollback. (A commit of a nested savepoint does not run them: the workers' poll does.)
 * They run on a later turn of the event loop, once the code that committed has gone on: a request
 * answers before the work its commit woke competes with it, so that work (a deferred reset's
 * lookups, say) cannot show in the answer's time.
 */
export class AfterCommitHooks implements EventSubscriber {
  private readonly hooks = new Map<EntityClass<unknown>, Hook[]>();
  private readonly pending = new WeakMap<object, Set<Hook>>();

  /** Runs `hook` after each commit that created an entity of `entity`. */
  on(entity: EntityClass<unknown>, hook: Hook): void {
    this.hooks.set(entity, [...(this.hooks.get(entity) ?? []), hook]);
  }

  async afterFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const due = new Set<Hook>();
    for (const changeSet of uow.getChangeSets()) {
      if (changeSet.type !== ChangeSetType.CREATE) continue;
      for (const hook of this.hooks.get(changeSet.entity.constructor as EntityClass<unknown>) ?? []) due.add(hook);
    }
    if (due.size === 0) return;
    const transaction = em.isInTransaction() ? em.getTransactionContext<object>() : undefined;
    if (!transaction) return run(due);
    const waiting = this.pending.get(transaction) ?? new Set<Hook>();
    for (const hook of due) waiting.add(hook);
    this.pending.set(transaction, waiting);
  }

  async afterTransactionCommit({ transaction }: TransactionEventArgs): Promise<void> {
    const due = transaction ? this.pending.get(transaction as object) : undefined;
    if (!due) return;
    this.pending.delete(transaction as object);
    run(due);
  }
}

function run(hooks: Iterable<Hook>): void {
  setImmediate(() => {
    // A hook only wakes a worker; it must never fail the request whose commit triggered it.
    for (const hook of hooks) {
      try {
        hook();
      } catch {
        /* the worker's own poll covers it */
      }
    }
  });
}
