// Push: the app registers its Expo push token with the server, which sends
// a push for each conversation with news while the app has no socket. A tap
// opens that conversation. Native only: a web build skips all of it.
import Constants from 'expo-constants';
import * as Device from 'expo-device';
import * as Notifications from 'expo-notifications';
import { useEffect } from 'react';
import { Platform } from 'react-native';
import type { BusMobileClient } from 'odoo-bus-mobile';

import { IS_WEB } from './session';

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

/** The channel a push is about (the server sends `channel_id`). */
function channelOf(response: Notifications.NotificationResponse | null): number | null {
  const id = response?.notification.request.content.data?.channel_id;
  return typeof id === 'number' ? id : null;
}

/** Calls `open(channelId)` when the user taps a push, including the one
 * that launched the app. */
export function usePushTaps(open: (channelId: number) => void): void {
  useEffect(() => {
    if (IS_WEB) return;
    let live = true;
    Notifications.getLastNotificationResponseAsync().then((response) => {
      const id = channelOf(response);
      if (live && id !== null) open(id);
    });
    const subscription = Notifications.addNotificationResponseReceivedListener((response) => {
      const id = channelOf(response);
      if (id !== null) open(id);
    });
    return () => {
      live = false;
      subscription.remove();
    };
  }, [open]);
}
