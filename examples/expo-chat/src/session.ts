// Where the app keeps its sign-in between launches: the server, the
// database, the login and the device token. Never the password.
import AsyncStorage from '@react-native-async-storage/async-storage';
import * as SecureStore from 'expo-secure-store';
import { AppState, Platform } from 'react-native';
import { BusMobileClient } from 'odoo-bus-mobile';

export type SavedSession = { url: string; db: string; login: string; token: string };

const KEY = 'odoo-chat.session';
export const IS_WEB = Platform.OS === 'web';
export const PLATFORM: 'ios' | 'android' | 'web' =
  Platform.OS === 'ios' || Platform.OS === 'android' ? Platform.OS : 'web';
const APP_VERSION = '1.0.0';

// iOS keeps SecureStore's items in the Keychain, Android encrypts them with
// a Keystore key. A browser has nothing like it: localStorage, which any
// script running on the app's origin can read (see the README).
async function readItem(): Promise<string | null> {
  if (IS_WEB) return globalThis.localStorage?.getItem(KEY) ?? null;
  return SecureStore.getItemAsync(KEY);
}

export async function loadSession(): Promise<SavedSession | null> {
  const raw = await readItem();
  if (!raw) return null;
  try {
    const saved = JSON.parse(raw) as SavedSession;
    return saved.url && saved.db && saved.token ? saved : null;
  } catch {
    return null;
  }
}

export async function saveSession(session: SavedSession): Promise<void> {
  const raw = JSON.stringify(session);
  if (IS_WEB) globalThis.localStorage?.setItem(KEY, raw);
  else await SecureStore.setItemAsync(KEY, raw);
}

export async function forgetSession(): Promise<void> {
  if (IS_WEB) globalThis.localStorage?.removeItem(KEY);
  else await SecureStore.deleteItemAsync(KEY);
}

/** The one client of the app: AsyncStorage keeps its device id, resume
 * cursors and outbox; AppState drives background and foreground. */
export function createClient(url: string, db: string, token?: string): BusMobileClient {
  return new BusMobileClient({
    url: url.replace(/\/+$/, ''),
    db,
    token,
    storage: AsyncStorage,
    appState: AppState,
    platform: PLATFORM,
    appVersion: APP_VERSION,
  });
}
