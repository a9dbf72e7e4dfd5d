/**
 * Makes `client` available to the hooks below it, and starts it (unless
 * `autoStart` is false). It never closes the client: call `client.close()`
 * on sign-out.
 * @param {{client: BusMobileClient, autoStart?: boolean, children?: import('react').ReactNode}} props
 */
export function BusMobileProvider({ client, autoStart, children }: {
    client: BusMobileClient;
    autoStart?: boolean;
    children?: import("react").ReactNode;
}): import("react").FunctionComponentElement<import("react").ProviderProps<import("./client.js").BusMobileClient | null>>;
/** The provider's client. @returns {BusMobileClient} */
export function useBusMobileClient(): BusMobileClient;
/**
 * The thread a hook's argument names, the same object while it names the
 * same conversation (a new `{model, id}` literal on each render is fine).
 * A bad name throws a `TypeError` saying why.
 * @param {ThreadName | null | undefined} name
 * @param {string} hook
 * @returns {Thread | null}
 */
export function useThread(name: ThreadName | null | undefined, hook: string): Thread | null;
export type BusMobileClient = import("./client.js").BusMobileClient;
export type Thread = import("./shapes.js").Thread;
export type ThreadName = import("./shapes.js").ThreadName;
