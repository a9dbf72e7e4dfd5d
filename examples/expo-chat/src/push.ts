// Push: the app registers its Expo push token with the server, which sends
// a push for each conversation with news while the app has no socket (a
// Discuss one or a mobile channel). A tap opens that conversation. Native
// only: a web build skips all of it.
import Constants from 'expo-constants';
import * as Device from 'expo-device';
import * as Notifications from 'expo-notifications';
import { useEffect, useRef } from 'react';
import { Platform } from 'react-native';
import type { BusMobileClient } from 'odoo-bus-mobile';

import { IS_WEB } from './session';
import { pushThreadKey } from './threads';

if (!IS_WEB) {
  // A push that arrives while the app is open: the socket already shows it.
  Notifications.setNotificationHandler({
    handleNotification: async () => ({
      shouldShowBanner: false,
      shouldShowList: true,
      shouldPlaySound: false,
      shouldSetBadge: false,
    }),
  });
}

/** Ask for permission, get the Expo push token, register it with the
 * server. Resolves to the token, or null where push is not available. */
export async function registerForPush(client: BusMobileClient): Promise<string | null> {
  if (IS_WEB || !Device.isDevice) return null; // simulators get no push token
  if (Platform.OS === 'android') {
    await Notifications.setNotificationChannelAsync('messages', {
      name: 'Messages',
      importance: Notifications.AndroidImportance.HIGH,
    });
  }
  const { status } = await Notifications.requestPermissionsAsync();
  if (status !== 'granted') return null;
  const projectId = Constants.expoConfig?.extra?.eas?.projectId ?? Constants.easConfig?.projectId;
  const { data } = await Notifications.getExpoPushTokenAsync(projectId ? { projectId } : {});
  await client.registerDevice({ pushToken: data });
  return data;
}

/** The conversation a push is about (its thread key). */
function threadOf(response: Notifications.NotificationResponse | null): string | null {
  return pushThreadKey(response?.notification.request.content.data);
}

/** Calls `open(threadKey)` when the user taps a push, including the one
 * that launched the app (once: `open` may change on every render). */
export function usePushTaps(open: (key: string) => void): void {
  const latest = useRef(open);
  latest.current = open;
  useEffect(() => {
    if (IS_WEB) return;
    let live = true;
    Notifications.getLastNotificationResponseAsync().then((response) => {
      const key = threadOf(response);
      if (live && key !== null) latest.current(key);
    });
    const subscription = Notifications.addNotificationResponseReceivedListener((response) => {
      const key = threadOf(response);
      if (key !== null) latest.current(key);
    });
    return () => {
      live = false;
      subscription.remove();
    };
  }, []);
}
