// @ts-check
/** The client the hooks use: `<BusMobileProvider client={client}>`. */
import { createContext, createElement, useContext, useEffect, useMemo } from 'react';
import { threadKey, toThread } from './threads.js';

/** @typedef {import('./client.js').BusMobileClient} BusMobileClient */
/** @typedef {import('./shapes.js').Thread} Thread */
/** @typedef {import('./shapes.js').ThreadName} ThreadName */

const ClientContext = createContext(/** @type {BusMobileClient | null} */ (null));

/**
 * Makes `client` available to the hooks below it, and starts it (unless
 * `autoStart` is false). It never closes the client: call `client.close()`
 * on sign-out.
 * @param {{client: BusMobileClient, autoStart?: boolean, children?: import('react').ReactNode}} props
 */
export function BusMobileProvider({ client, autoStart = true, children }) {
  useEffect(() => {
    // Failures also come as `error` events; the promise may be ignored.
    if (autoStart) client.start().catch(() => {});
  }, [client, autoStart]);
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client. @returns {BusMobileClient} */
export function useBusMobileClient() {
  const client = useContext(ClientContext);
  if (!client) throw new Error('odoo-bus-mobile: wrap your components in <BusMobileProvider client={...}>');
  return client;
}

/**
 * The thread a hook's argument names, the same object while it names the
 * same conversation (a new `{model, id}` literal on each render is fine).
 * A bad name throws a `TypeError` saying why.
 * @param {ThreadName | null | undefined} name
 * @param {string} hook
 * @returns {Thread | null}
 */
export function useThread(name, hook) {
  const thread = name === null || name === undefined ? null : toThread(name, hook);
  const key = thread ? threadKey(thread) : '';
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => thread, [key]);
}
