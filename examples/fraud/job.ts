/**
 * Fraud-style stream–stream join: a payment (`payments`, key = card, JSON `{ amount, country }`)
 * made within 10 minutes of a login (`logins`, key = card, JSON `{ country }`) from another
 * country raises an alert on `fraud-alerts`. Both topics must have the same partition count and
 * be keyed by card (co-partitioned).
 */
import { defineJob, filter, joinStream, joinWindows, jsonSerde, to } from '../../streams/index.js';

interface Payment {
  amount: number;
  country: string;
}

interface Login {
  country: string;
}

export default defineJob({
  applicationId: 'fraud',
  build(builder) {
    const logins = builder.stream<string, Login>('logins', { valueSerde: jsonSerde<Login>() });
    builder.stream<string, Payment>('payments', { valueSerde: jsonSerde<Payment>() }).pipe(
      joinStream(
        logins,
        (payment, login) => ({
          amount: payment?.amount ?? 0,
          paymentCountry: payment?.country ?? '',
          loginCountry: login?.country ?? '',
        }),
        joinWindows(10 * 60_000, { graceMs: 60_000 }),
        { name: 'payments-logins' },
      ),
      filter((_card, m) => m.paymentCountry !== m.loginCountry),
      to('fraud-alerts'),
    );
  },
});
