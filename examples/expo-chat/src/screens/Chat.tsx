import * as ImagePicker from 'expo-image-picker';
import { useEffect, useRef, useState } from 'react';
import { FlatList, KeyboardAvoidingView, Platform, Pressable, Text, TextInput, View } from 'react-native';
import type { Attachment, UploadFile } from 'odoo-bus-mobile';
import { useBusMobileClient, useMessages, usePresence, useReadState, useTyping, useUploads } from 'odoo-bus-mobile/react';

import { AuthImage } from '../components/AuthImage';
import { PresenceDot } from '../components/PresenceDot';
import type { Thread, ThreadMessage } from '../threads';
import { colors, styles } from '../theme';

type Props = { thread: Thread; onBack: () => void };

/** History with "load older", live messages, my pending posts, typing,
 * read ticks, the presence of the others, and photos where the
 * conversation takes files (Discuss). The client's hooks take the thread
 * whatever its kind. */
export function ChatScreen({ thread, onBack }: Props) {
  const client = useBusMobileClient();
  const { messages, loading, error, hasMore, loadOlder, post } = useMessages(thread.ref);
  const { partnerIds: typing, setTyping } = useTyping(thread.ref);
  const { seen, seenBy, markRead } = useReadState(thread.ref);
  const { uploads, attachments, upload, clear } = useUploads(thread.ref);
  const presence = usePresence(thread.partnerIds);
  const [text, setText] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const list = useRef<FlatList<ThreadMessage>>(null);
  const me = client.partnerId;

  // Read up to the newest message the server has, once.
  const newest = messages.reduce((max, m) => (m.id !== null && m.id > max ? m.id : max), 0);
  const mySeen = me !== null ? seen[me] ?? 0 : 0;
  useEffect(() => {
    if (newest > mySeen) markRead(newest).catch(() => {});
  }, [newest, mySeen, markRead]);

  const names = new Map<number | null, string>([...Object.entries(thread.memberNames).map(([id, name]) => [Number(id), name] as const)]);
  for (const m of messages) names.set(m.author_id, m.author_name);
  const typingNames = typing.map((id) => names.get(id) ?? 'Someone');
  const uploading = uploads.some((u) => !u.attachment && !u.error);

  function send() {
    const body = text.trim();
    if (!body && !attachments.length) return;
    post(body, attachments.length ? { attachments } : undefined);
    setText('');
    setTyping(false);
    clear();
  }

  async function attachPhoto() {
    setFailure(null);
    const picked = await ImagePicker.launchImageLibraryAsync({ mediaTypes: ['images'], quality: 0.7 });
    if (picked.canceled) return;
    const asset = picked.assets[0];
    const name = asset.fileName ?? `photo-${Date.now()}.jpg`;
    // A browser gives a File; a phone, a file on the device.
    const file: UploadFile = asset.file ?? { uri: asset.uri, name, type: asset.mimeType ?? 'image/jpeg' };
    const attachment = await upload(file, { name });
    if (!attachment) setFailure('The photo could not be sent.');
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
      {(error || failure) && <Text style={[styles.error, { marginHorizontal: 16 }]}>{error?.message ?? failure}</Text>}
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
        renderItem={({ item }) =>
          item.message_type === 'notification' ? (
            <Text style={[styles.muted, { alignSelf: 'center', fontSize: 12 }]}>{item.body}</Text>
          ) : (
            <Bubble message={item} mine={item.author_id === me || item.id === null} read={item.id !== null && seenBy(item.id).length > 0} />
          )
        }
      />
      <Text testID="typing" style={[styles.muted, { paddingHorizontal: 16, minHeight: 18 }]}>
        {typingNames.length ? `${typingNames.join(', ')} ${typingNames.length > 1 ? 'are' : 'is'} typing…` : ''}
      </Text>
      {uploads.length > 0 && (
        <View testID="uploads" style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 6, paddingHorizontal: 12 }}>
          {uploads.map((u) => (
            <Text key={u.key} testID={`upload-${u.name}`} style={styles.muted}>
              📎 {u.name} {u.error ? '(failed)' : u.attachment ? '✓' : u.total ? `${Math.round((100 * u.loaded) / u.total)} %` : '…'}
            </Text>
          ))}
        </View>
      )}
      <View style={{ flexDirection: 'row', gap: 8, padding: 12, borderTopWidth: 1, borderTopColor: colors.line }}>
        {thread.canAttach && (
          <Pressable testID="attach" aria-label="Attach a photo" onPress={attachPhoto} style={{ justifyContent: 'center' }}>
            <Text style={[styles.link, { fontSize: 24, lineHeight: 26 }]}>+</Text>
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
        <Pressable testID="send" disabled={uploading} onPress={send} style={[styles.button, { paddingVertical: 10, opacity: uploading ? 0.5 : 1 }]}>
          <Text style={styles.buttonText}>Send</Text>
        </Pressable>
      </View>
    </KeyboardAvoidingView>
  );
}

/** One message: pending posts show "sending…", mine show ✓ once the server
 * has them and ✓✓ once another member has seen them. */
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
        gap: 4,
        opacity: pending ? 0.6 : 1,
      }}
    >
      {!mine && <Text style={{ fontWeight: '600', color: colors.brand }}>{message.author_name}</Text>}
      {message.attachments.map((a) => (
        <AttachmentView key={a.id} attachment={a} />
      ))}
      {message.body !== '' && <Text testID="message-body" style={{ color: colors.text }}>{message.body}</Text>}
      <Text style={[styles.muted, { fontSize: 11, alignSelf: 'flex-end' }]}>
        {message.edited ? 'edited ' : ''}{time} {status}
      </Text>
    </View>
  );
}

/** A photo as a thumbnail, any other file by its name. */
function AttachmentView({ attachment }: { attachment: Attachment }) {
  if (attachment.image_url) {
    return (
      <AuthImage
        testID={`attachment-${attachment.id}`}
        label={attachment.name}
        path={`${attachment.image_url}/480x480`}
        style={{ width: 200, height: 150, borderRadius: 8 }}
      />
    );
  }
  return (
    <Text testID={`attachment-${attachment.id}`} style={styles.link}>
      📎 {attachment.name}
    </Text>
  );
}
