import { useCallback, useEffect, useState } from 'react';
import { ActivityIndicator, SafeAreaView, Text, View } from 'react-native';
import type { BusMobileClient } from 'odoo-bus-mobile';
import { BusMobileProvider, useBusMobileClient } from 'odoo-bus-mobile/react';

import { registerForPush, usePushTaps } from './src/push';
import { ChatScreen } from './src/screens/Chat';
import { ConversationsScreen } from './src/screens/Conversations';
import { NewChatScreen } from './src/screens/NewChat';
import { SignInScreen } from './src/screens/SignIn';
import { createClient, forgetSession, loadSession, type SavedSession } from './src/session';
import { useThreads } from './src/threads';
import { styles } from './src/theme';

type Signed = { client: BusMobileClient; session: SavedSession } | null;

export default function App() {
  const [signed, setSigned] = useState<Signed | undefined>(undefined); // undefined: loading

  useEffect(() => {
    loadSession().then((session) =>
      setSigned(session ? { client: createClient(session.url, session.db, session.token), session } : null),
    );
  }, []);

  const signOut = useCallback(async (client: BusMobileClient, onServer: boolean) => {
    // Forget the token first: a failed call must not leave it behind.
    await forgetSession();
    setSigned(null);
    if (onServer) await client.signOut().catch(() => client.close());
    else client.close();
  }, []);

  useEffect(() => {
    if (!signed) return;
    // The server refused the token (revoked, expired): sign in again.
    return signed.client.on('sessionExpired', () => signOut(signed.client, false));
  }, [signed, signOut]);

  let body;
  if (signed === undefined) body = <ActivityIndicator style={{ flex: 1 }} />;
  else if (signed === null) body = <SignInScreen onSignedIn={(client, session) => setSigned({ client, session })} />;
  else
    body = (
      <BusMobileProvider client={signed.client}>
        <Home onSignOut={() => signOut(signed.client, true)} />
      </BusMobileProvider>
    );
  return <SafeAreaView style={styles.screen}>{body}</SafeAreaView>;
}

/** Conversations, a chat, or a new chat; a push tap opens its chat. */
function Home({ onSignOut }: { onSignOut: () => void }) {
  const client = useBusMobileClient();
  const { threads, loading, refresh } = useThreads();
  const [openKey, setOpenKey] = useState<string | null>(null);
  const [newChat, setNewChat] = useState(false);

  useEffect(() => {
    registerForPush(client).catch((e) => console.warn('push registration failed', e));
  }, [client]);

  const open = useCallback(
    (key: string) => {
      setNewChat(false);
      setOpenKey(key);
      if (!threads.some((t) => t.key === key)) refresh(); // a new chat, or a push for one not listed yet
    },
    [refresh, threads],
  );
  usePushTaps(open);

  if (newChat) return <NewChatScreen onBack={() => setNewChat(false)} onOpen={open} />;
  if (openKey !== null) {
    const thread = threads.find((t) => t.key === openKey);
    if (thread) return <ChatScreen thread={thread} onBack={() => setOpenKey(null)} />;
    return (
      <View style={{ flex: 1, justifyContent: 'center', alignItems: 'center' }}>
        <Text style={styles.muted}>{loading ? 'Opening…' : 'This conversation is not yours any more.'}</Text>
      </View>
    );
  }
  return (
    <ConversationsScreen
      threads={threads}
      loading={loading}
      userName={client.config?.user.name ?? ''}
      onOpen={(thread) => setOpenKey(thread.key)}
      onNewChat={() => setNewChat(true)}
      onSignOut={onSignOut}
    />
  );
}
