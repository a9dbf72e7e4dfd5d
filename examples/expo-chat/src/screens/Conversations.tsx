import { FlatList, Pressable, Text, View } from 'react-native';
import type { Message } from 'odoo-bus-mobile';
import { useConnectionState, usePresence } from 'odoo-bus-mobile/react';

import { PresenceDot } from '../components/PresenceDot';
import type { Thread } from '../threads';
import { colors, styles } from '../theme';

type Props = {
  threads: Thread[];
  loading: boolean;
  userName: string;
  onOpen: (thread: Thread) => void;
  onNewChat: () => void;
  onSignOut: () => void;
};

/** The conversations (Discuss's and the mobile channels), the most
 * recently active first: unread count, last message, and the presence of
 * the other person of a direct chat. */
export function ConversationsScreen({ threads, loading, userName, onOpen, onNewChat, onSignOut }: Props) {
  const state = useConnectionState();
  const directPartners = threads.filter((t) => t.direct).flatMap((t) => t.partnerIds);
  const presence = usePresence(directPartners);
  return (
    <View style={styles.screen}>
      <View style={styles.header}>
        <Text style={styles.title}>Chats</Text>
        <Text testID="connection" aria-label={state} style={styles.muted}>{state === 'open' ? userName : state}</Text>
        <Pressable testID="sign-out" onPress={onSignOut}>
          <Text style={styles.link}>Sign out</Text>
        </Pressable>
      </View>
      <FlatList
        data={threads}
        keyExtractor={(thread) => thread.key}
        ListEmptyComponent={<Text style={[styles.muted, { padding: 16 }]}>{loading ? 'Loading…' : 'No conversation yet'}</Text>}
        renderItem={({ item }) => (
          <Pressable testID={`thread-${item.key}`} aria-label={item.kind} style={styles.row} onPress={() => onOpen(item)}>
            {item.direct && item.partnerIds[0] !== undefined && (
              <PresenceDot partnerId={item.partnerIds[0]} presence={presence[item.partnerIds[0]]} />
            )}
            <View style={{ flex: 1 }}>
              <Text style={{ fontWeight: item.unread ? '700' : '500', color: colors.text }}>{item.name}</Text>
              <Text numberOfLines={1} style={styles.muted}>
                {item.lastMessage ? `${item.lastMessage.author_name}: ${preview(item.lastMessage)}` : ' '}
              </Text>
            </View>
            {item.unread > 0 && (
              <Text
                testID={`unread-${item.key}`}
                style={{ backgroundColor: colors.brand, color: '#fff', borderRadius: 10, paddingHorizontal: 7, overflow: 'hidden' }}
              >
                {item.unread}
              </Text>
            )}
          </Pressable>
        )}
      />
      <Pressable testID="new-chat" style={[styles.button, { margin: 16 }]} onPress={onNewChat}>
        <Text style={styles.buttonText}>New chat</Text>
      </Pressable>
    </View>
  );
}

/** A message in one line: its text, else its files. */
function preview(message: Message): string {
  if (message.body) return message.body;
  const files = message.attachments.map((a) => a.name);
  return files.length ? `📎 ${files.join(', ')}` : '';
}
