import { View } from 'react-native';
import type { Presence } from 'odoo-bus-mobile';

import { colors } from '../theme';

/** A colored dot: online, away or offline (im_status). */
export function PresenceDot({ partnerId, presence }: { partnerId: number; presence?: Presence }) {
  const status = presence?.im_status ?? 'offline';
  const color = status === 'online' ? colors.online : status === 'away' ? colors.away : colors.offline;
  return (
    <View
      testID={`presence-${partnerId}`}
      aria-label={status}
      style={{ width: 10, height: 10, borderRadius: 5, backgroundColor: color }}
    />
  );
}
