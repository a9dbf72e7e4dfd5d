import * as ImagePicker from 'expo-image-picker';
import { useRef, useState } from 'react';
import { FlatList, KeyboardAvoidingView, Platform, Pressable, Text, TextInput, View } from 'react-native';
import { useBusMobileClient, usePresence, useTyping } from 'odoo-bus-mobile/react';

import { PresenceDot } from '../components/PresenceDot';
import { sendPhoto, useMarkRead, useReadUpTo, useThreadMessages, type Thread, type ThreadMessage } from '../threads';
import { colors, styles } from '../theme';

type Props = { thread: Thread; onBack: () => void };

/** History with "load older", live messages, my pending posts, typing,
 * read ticks and the presence of the others. */
export function ChatScreen({ thread, onBack }: Props) {
  const client = useBusMobileClient();
  const { messages, loading, error, hasMore, loadOlder, post } = useThreadMessages(thread);
  const { partnerIds: typing, setTyping } = useTyping(thread.id);
  const presence = usePresence(thread.partnerIds);
  const readUpTo = useReadUpTo(thread);
  useMarkRead(thread, messages);
  const [text, setText] = useState('');
  const list = useRef<FlatList<ThreadMessage>>(null);

  const names = new Map(messages.map((m) => [m.author_id, m.author_name]));
  const typingNames = typing.map((id) => names.get(id) ?? 'Someone');

  function send() {
    const body = text.trim();
    if (!body) return;
    post(body);
    setText('');
    setTyping(false);
  }

  async function attachPhoto() {
    const picked = await ImagePicker.launchImageLibraryAsync({ mediaTypes: ['images'], quality: 0.7 });
    if (!picked.canceled) await sendPhoto(thread, picked.assets[0]);
  }

  return (
    <KeyboardAvoidingView style={styles.screen} behavior={Platform.OS === 'ios' ? 'padding' : undefined}>
      <View style={styles.header}>
        <Pressable testID="back" onPress={onBack}>
          <Text style={styles.link}>‹ Chats</Text>
        </Pressable>
        <Text testID="chat-title" style={styles.title} numberOfLines={1}>{thread.name}</Text>
        {thread.partnerIds.slice(0, 5).map((id) => (
          <PresenceDot key={id} partnerId={id} presence={presence[id]} />
        ))}
      </View>
      {error && <Text style={[styles.error, { marginHorizontal: 16 }]}>{error.message}</Text>}
      <FlatList
        ref={list}
        testID="messages"
        data={messages}
        keyExtractor={(m) => (m.id === null ? m.client_uuid : String(m.id))}
        onContentSizeChange={() => list.current?.scrollToEnd({ animated: false })}
        contentContainerStyle={{ padding: 12, gap: 6 }}
        ListHeaderComponent={
          hasMore ? (
            <Pressable testID="load-older" onPress={loadOlder} style={{ alignSelf: 'center', padding: 8 }}>
              <Text style={styles.link}>Load older</Text>
            </Pressable>
          ) : loading ? (
            <Text style={[styles.muted, { alignSelf: 'center' }]}>Loading…</Text>
          ) : null
        }
        renderItem={({ item }) => (
          <Bubble message={item} mine={item.author_id === client.partnerId || item.id === null} read={item.id !== null && item.id <= readUpTo} />
        )}
      />
      <Text testID="typing" style={[styles.muted, { paddingHorizontal: 16, minHeight: 18 }]}>
        {typingNames.length ? `${typingNames.join(', ')} ${typingNames.length > 1 ? 'are' : 'is'} typing…` : ''}
      </Text>
      <View style={{ flexDirection: 'row', gap: 8, padding: 12, borderTopWidth: 1, borderTopColor: colors.line }}>
        {thread.canAttach && (
          <Pressable testID="attach" onPress={attachPhoto} style={{ justifyContent: 'center' }}>
            <Text style={styles.link}>＋</Text>
          </Pressable>
        )}
        <TextInput
          testID="composer"
          placeholder="Message"
          value={text}
          onChangeText={(value) => {
            setText(value);
            setTyping(value.length > 0);
          }}
          onSubmitEditing={send}
          style={[styles.input, { flex: 1, marginBottom: 0 }]}
        />
        <Pressable testID="send" onPress={send} style={[styles.button, { paddingVertical: 10 }]}>
          <Text style={styles.buttonText}>Send</Text>
        </Pressable>
      </View>
    </KeyboardAvoidingView>
  );
}

/** One message: pending posts show "sending…", mine show ✓ once the server
 * has them and ✓✓ once another member read them. */
function Bubble({ message, mine, read }: { message: ThreadMessage; mine: boolean; read: boolean }) {
  const pending = message.id === null;
  const status = pending ? 'sending…' : mine ? (read ? '✓✓' : '✓') : '';
  const time = new Date(message.create_date).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <View
      testID={pending ? `pending-${message.client_uuid}` : `message-${message.id}`}
      aria-label={pending ? 'pending' : read ? 'read' : 'sent'}
      style={{
        alignSelf: mine ? 'flex-end' : 'flex-start',
        maxWidth: '80%',
        backgroundColor: mine ? colors.mine : colors.theirs,
        borderRadius: 12,
        padding: 10,
        opacity: pending ? 0.6 : 1,
      }}
    >
      {!mine && <Text style={{ fontWeight: '600', color: colors.brand }}>{message.author_name}</Text>}
      <Text testID="message-body" style={{ color: colors.text }}>{message.body}</Text>
      <Text style={[styles.muted, { fontSize: 11, alignSelf: 'flex-end' }]}>
        {time} {status}
      </Text>
    </View>
  );
}
