import { useEffect, useState } from 'react';
import { Image, Platform, View, type ImageStyle, type StyleProp } from 'react-native';
import { useBusMobileClient } from 'odoo-bus-mobile/react';

type Props = { path: string; style: StyleProp<ImageStyle>; testID?: string; label?: string };

/** An image of the server that needs the app's credentials (a Discuss
 * attachment). React Native's Image sends headers; a browser's <img> does
 * not, so the web build fetches it with the header and shows the blob. */
export function AuthImage(props: Props) {
  return Platform.OS === 'web' ? <WebAuthImage {...props} /> : <NativeAuthImage {...props} />;
}

function useAuth() {
  const client = useBusMobileClient();
  const headers: Record<string, string> = client.token ? { Authorization: `Bearer ${client.token}` } : {};
  return { uri: (path: string) => client.url + path, headers };
}

function NativeAuthImage({ path, style, testID, label }: Props) {
  const { uri, headers } = useAuth();
  return <Image testID={testID} accessibilityLabel={label} source={{ uri: uri(path), headers }} style={style} />;
}

function WebAuthImage({ path, style, testID, label }: Props) {
  const { uri, headers } = useAuth();
  const url = uri(path);
  const authorization = headers.Authorization ?? '';
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let objectUrl: string | null = null;
    fetch(url, { headers: authorization ? { Authorization: authorization } : {} })
      .then((response) => (response.ok ? response.blob() : Promise.reject(new Error(`HTTP ${response.status}`))))
      .then((blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setSrc(objectUrl);
      })
      .catch((e) => console.warn(`image ${url}: ${e}`));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url, authorization]);
  if (!src) return <View testID={testID} style={[style, { backgroundColor: '#eee' }]} />;
  return <Image testID={testID} accessibilityLabel={label} source={{ uri: src }} style={style} />;
}
