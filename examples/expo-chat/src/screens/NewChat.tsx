import { useEffect, useState } from 'react';
import { FlatList, Pressable, Text, TextInput, View } from 'react-native';
import { useBusMobileClient, usePresence } from 'odoo-bus-mobile/react';

import { PresenceDot } from '../components/PresenceDot';
import { openDirectChat, searchColleagues, type Colleague } from '../threads';
import { styles } from '../theme';

type Props = { onBack: () => void; onOpen: (threadKey: string) => void };

/** Find a colleague, open the direct chat with them (made on first use):
 * a Discuss chat where the server has Discuss, else a mobile channel. */
export function NewChatScreen({ onBack, onOpen }: Props) {
  const client = useBusMobileClient();
  const [query, setQuery] = useState('');
  const { colleagues, error } = useColleagues(query);
  const presence = usePresence(colleagues.map((c) => c.partner_id));
  const [failure, setFailure] = useState<string | null>(null);
  return (
    <View style={styles.screen}>
      <View style={styles.header}>
        <Pressable testID="back" onPress={onBack}>
          <Text style={styles.link}>‹ Back</Text>
        </Pressable>
        <Text style={styles.title}>New chat</Text>
      </View>
      <TextInput
        testID="colleague-search"
        placeholder="Search colleagues by name"
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

/** Colleagues matching `query`, asked a moment after the typing stops. */
function useColleagues(query: string) {
  const client = useBusMobileClient();
  const [colleagues, setColleagues] = useState<Colleague[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      searchColleagues(client, query)
        .then((rows) => live && (setColleagues(rows), setError(null)))
        .catch((e: Error) => live && setError(e.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, query]);
  return { colleagues, error };
}
