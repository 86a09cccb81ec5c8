/** A minimal typed event emitter for the core (no dependency on `vscode` or `node:events`). */

export interface Disposable {
  dispose(): void;
}

/** An event map: event name → listener signature. */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** Where errors thrown by listeners go. */
export type ListenerErrorSink = (err: unknown, event: PropertyKey) => void;

/** The default sink: rethrow asynchronously, as an uncaught exception. */
const rethrowLater: ListenerErrorSink = (err) =>
  queueMicrotask(() => {
    throw err;
  });

/**
 * Listeners run in registration order. A listener that throws does not stop the others nor
 * the code that emitted: its error goes to the sink (by default rethrown asynchronously, an
 * uncaught exception as with any event handler), so protocol state never depends on listeners.
 */
export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, E[keyof E][]>();

  constructor(private readonly onListenerError: ListenerErrorSink = rethrowLater) {}

  /** Adds a listener; dispose the result to remove it. */
  on<K extends keyof E>(event: K, listener: E[K]): Disposable {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return { dispose: () => this.off(event, listener) };
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof E>(event: K, listener: E[K]): Disposable {
    const wrapper = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapper);
      (listener as (...a: Parameters<E[K]>) => void)(...args);
    }) as E[K];
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, listener: E[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of [...list]) {
      try {
        (listener as (...a: Parameters<E[K]>) => void)(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
