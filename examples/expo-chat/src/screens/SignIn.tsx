import { useState } from 'react';
import { ActivityIndicator, Platform, Pressable, ScrollView, Text, TextInput } from 'react-native';
import type { BusMobileClient } from 'odoo-bus-mobile';

import { createClient, saveSession, type SavedSession } from '../session';
import { styles } from '../theme';

type Props = { onSignedIn: (client: BusMobileClient, session: SavedSession) => void };

/** Server, database, login and password, then the TOTP code when the
 * account has two-factor sign-in. What is kept is the device token. */
export function SignInScreen({ onSignedIn }: Props) {
  const [url, setUrl] = useState(process.env.EXPO_PUBLIC_ODOO_URL ?? '');
  const [db, setDb] = useState(process.env.EXPO_PUBLIC_ODOO_DB ?? '');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [askTotp, setAskTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signIn() {
    setBusy(true);
    setError(null);
    const client = createClient(url.trim(), db.trim());
    try {
      const answer = await client.deviceLogin({
        login: login.trim(),
        password,
        totpCode: askTotp ? totpCode.trim() : undefined,
      });
      if (answer.totpRequired) {
        setAskTotp(true);
        return;
      }
      const session = { url: client.url, db: db.trim(), login: login.trim(), token: answer.token! };
      await saveSession(session);
      onSignedIn(client, session);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const field = { autoCapitalize: 'none' as const, autoCorrect: false, style: styles.input };
  return (
    <ScrollView contentContainerStyle={{ padding: 24, paddingTop: 64 }} keyboardShouldPersistTaps="handled">
      <Text style={[styles.title, { fontSize: 26, marginBottom: 24 }]}>Sign in to Odoo</Text>
      <TextInput testID="server" placeholder="https://odoo.example.com" keyboardType="url" value={url} onChangeText={setUrl} {...field} />
      <TextInput testID="database" placeholder="Database" value={db} onChangeText={setDb} {...field} />
      <TextInput testID="login" placeholder="Login (email)" value={login} onChangeText={setLogin} {...field} />
      <TextInput testID="password" placeholder="Password" secureTextEntry value={password} onChangeText={setPassword} {...field} />
      {askTotp && (
        <TextInput
          testID="totp"
          placeholder="Code from your authenticator app"
          keyboardType="number-pad"
          autoComplete={Platform.OS === 'web' ? 'one-time-code' : 'sms-otp'}
          value={totpCode}
          onChangeText={setTotpCode}
          {...field}
        />
      )}
      {error && <Text testID="sign-in-error" style={styles.error}>{error}</Text>}
      <Pressable testID="sign-in" style={styles.button} onPress={signIn} disabled={busy}>
        {busy ? <ActivityIndicator color="#fff" /> : <Text style={styles.buttonText}>{askTotp ? 'Verify' : 'Sign in'}</Text>}
      </Pressable>
    </ScrollView>
  );
}
