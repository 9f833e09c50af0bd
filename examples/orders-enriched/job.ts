/**
 * Orders enriched with customers (stream–table join): `orders` (any key, JSON
 * `{ "orderId", "customerId", "amount" }`) are re-keyed by customer and joined with the table
 * `customers` (key = customer id, JSON value); the result goes to `orders-enriched`. Orders of
 * unknown customers pass with `customer: null` (left join).
 *
 * The repartition uses the string serde for the key so that orders land in the same partition
 * as their customer's row in `customers` (co-partitioning).
 */
import {
  defineJob,
  jsonSerde,
  leftJoinTable,
  repartition,
  selectKey,
  stringSerde,
  to,
} from '../../streams/index.js';

interface Order {
  orderId: string;
  customerId: string;
  amount: number;
}

interface Customer {
  name: string;
  tier?: string;
}

export default defineJob({
  applicationId: 'orders-enriched',
  build(builder) {
    const customers = builder.table<string, Customer>('customers', {
      valueSerde: jsonSerde<Customer>(),
      store: 'customers',
    });
    builder.stream<string | null, Order>('orders', { valueSerde: jsonSerde<Order>() }).pipe(
      selectKey((_k, order) => order.customerId),
      repartition({ name: 'orders-by-customer', keySerde: stringSerde, valueSerde: jsonSerde<Order>() }),
      leftJoinTable(customers, (order, customer) => ({ ...order, customer })),
      to('orders-enriched'),
    );
  },
});
