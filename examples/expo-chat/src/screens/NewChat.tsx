import { useState } from 'react';
import { FlatList, Pressable, Text, TextInput, View } from 'react-native';
import { useBusMobileClient, usePresence } from 'odoo-bus-mobile/react';

import { PresenceDot } from '../components/PresenceDot';
import { openDirectChat, useColleagues } from '../threads';
import { styles } from '../theme';

type Props = { onBack: () => void; onOpen: (channelId: number) => void };

/** Find a colleague, open the direct chat with them (made on first use). */
export function NewChatScreen({ onBack, onOpen }: Props) {
  const client = useBusMobileClient();
  const [query, setQuery] = useState('');
  const { colleagues, error } = useColleagues(query);
  const presence = usePresence(colleagues.map((c) => c.partner_id));
  const [failure, setFailure] = useState<string | null>(null);
  return (
    <View style={styles.screen}>
      <View style={styles.header}>
        <Pressable onPress={onBack}>
          <Text style={styles.link}>‹ Back</Text>
        </Pressable>
        <Text style={styles.title}>New chat</Text>
      </View>
      <TextInput
        testID="colleague-search"
        placeholder="Search colleagues"
        autoCapitalize="none"
        value={query}
        onChangeText={setQuery}
        style={[styles.input, { margin: 16 }]}
      />
      {(error || failure) && <Text style={[styles.error, { marginHorizontal: 16 }]}>{error || failure}</Text>}
      <FlatList
        data={colleagues}
        keyExtractor={(c) => String(c.partner_id)}
        renderItem={({ item }) => (
          <Pressable
            testID={`colleague-${item.partner_id}`}
            style={styles.row}
            onPress={() => openDirectChat(client, item.partner_id).then(onOpen, (e: Error) => setFailure(e.message))}
          >
            <PresenceDot partnerId={item.partner_id} presence={presence[item.partner_id]} />
            <Text>{item.name}</Text>
          </Pressable>
        )}
      />
    </View>
  );
}
