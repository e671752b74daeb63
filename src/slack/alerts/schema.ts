import { z } from 'zod';

/**
 * Alertmanager's webhook body, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 * Unknown fields are allowed (Alertmanager adds some over time); the ones we rely on are checked.
 */
const labels = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  /** Stable per label set: the same alert firing again has the same fingerprint. */
  fingerprint: z.string().regex(/^[A-Za-z0-9]{1,64}$/, { message: 'an Alertmanager fingerprint (hex)' }),
});
export type Alert = z.infer<typeof alertSchema>;

export const webhookSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).max(1000),
});
export type AlertmanagerWebhook = z.infer<typeof webhookSchema>;
