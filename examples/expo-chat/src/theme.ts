import { StyleSheet } from 'react-native';

export const colors = {
  brand: '#714B67',
  text: '#1f1f1f',
  muted: '#6b6b6b',
  line: '#e4e4e4',
  mine: '#efe6ee',
  theirs: '#f3f3f3',
  error: '#b00020',
  online: '#28a745',
  away: '#f0ad4e',
  offline: '#c4c4c4',
};

export const styles = StyleSheet.create({
  screen: { flex: 1, backgroundColor: '#fff' },
  header: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: 8,
    paddingHorizontal: 16,
    paddingVertical: 12,
    borderBottomWidth: 1,
    borderBottomColor: colors.line,
  },
  title: { flex: 1, fontSize: 18, fontWeight: '600', color: colors.text },
  link: { color: colors.brand, fontWeight: '600', padding: 4 },
  muted: { color: colors.muted },
  error: { color: colors.error, marginVertical: 8 },
  input: {
    borderWidth: 1,
    borderColor: colors.line,
    borderRadius: 8,
    paddingHorizontal: 12,
    paddingVertical: 10,
    fontSize: 16,
    marginBottom: 12,
  },
  button: {
    backgroundColor: colors.brand,
    borderRadius: 8,
    paddingVertical: 12,
    paddingHorizontal: 16,
    alignItems: 'center',
  },
  buttonText: { color: '#fff', fontWeight: '600', fontSize: 16 },
  row: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: 10,
    paddingHorizontal: 16,
    paddingVertical: 12,
    borderBottomWidth: 1,
    borderBottomColor: colors.line,
  },
});
