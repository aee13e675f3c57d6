/**
 * `insert_order` intake checks (market-protocol §2.6), in the normative order. Pure: everything the checks look at
 * arrives in `IntakeContext`. The first failing check decides the reject code.
 */
import type { Ledger } from './ledger.ts';
import type { ContractTerms } from './terms.ts';

export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** How the engine sees the requested instrument. */
export type InstrumentStatus =
  | { kind: 'tradable'; terms: ContractTerms }
  | { kind: 'not_tradable'; symbol: string; reason: 'continuous' | 'expired' | 'not_listed' }
  | { kind: 'unknown'; symbol: string };

export interface IntakeContext {
  userName: string;
  ledger: Ledger;
  /** Every order id the user ever sent (bounded, see `SEEN_ORDER_IDS_MAX`). */
  orderIdSeen: (orderId: string) => boolean;
  instrument: InstrumentStatus;
  /** Limits of the contract's current quote (NaN when unknown: the check is then skipped). */
  upperLimit: number;
  lowerLimit: number;
  /** Inside one of the contract's `trading_time` windows at sim now. */
  inTradingTime: boolean;
  /** An on-demand maintenance window is running. */
  maintenance: boolean;
}

/** A checked order request, in wire field names. */
export interface AcceptedRequest {
  order_id: string;
  user_id: string;
  terms: ContractTerms;
  direction: 'BUY' | 'SELL';
  offset: 'OPEN' | 'CLOSE' | 'CLOSETODAY';
  volume: number;
  limit_price: number;
  time_condition: 'GFD' | 'IOC';
  volume_condition: 'ANY' | 'ALL';
}

export type IntakeResult =
  | { ok: true; request: AcceptedRequest }
  | {
      ok: false;
      code: number;
      message: string;
      /** The reject writes a FINISHED order node (all codes but 407 and an unusable `order_id`). */
      writeNode: boolean;
      /** Fields for the FINISHED node, as far as they could be read from the request. */
      orderId: string;
    };

export const INTAKE_MESSAGES = {
  408: '下单失败, user_id 与登录用户不符',
  407: '下单失败, 委托单号重复',
  409: '下单失败, 合约不存在',
  410: '下单失败, 合约不可交易',
  411: '下单失败, 下单手数应为正整数',
  419: '下单失败, 不支持的委托字段',
  418: '下单失败, 不在可交易时间段内',
  412: '下单失败, 委托价格不是最小变动价位的整数倍',
  404: '下单失败, 委托价格高于涨停板价格',
  405: '下单失败, 委托价格低于跌停板价格',
  414: '平今仓手数不足',
  415: '平昨仓手数不足',
  413: '开仓资金不足',
  420: '下单失败, 系统运维中',
  417: '报单成功',
} as const;

/** True when `price` lies on the tick grid: |p/tick − round(p/tick)| < 1e-6 (§1.7), never rounding silently. */
export function onTickGrid(price: number, tick: number): boolean {
  const q = price / tick;
  return Math.abs(q - Math.round(q)) < 1e-6;
}

function reject(code: keyof typeof INTAKE_MESSAGES, orderId: string, detail = ''): IntakeResult {
  const message = detail ? `${INTAKE_MESSAGES[code]}: ${detail}` : INTAKE_MESSAGES[code];
  return { ok: false, code, message, writeNode: code !== 407 && ORDER_ID_PATTERN.test(orderId), orderId };
}

/** Run the intake checks on a raw `insert_order` packet. */
export function checkIntake(ctx: IntakeContext, req: Record<string, unknown>): IntakeResult {
  const orderId = typeof req.order_id === 'string' ? req.order_id : '';
  const userId = req.user_id;
  const { userName, ledger } = ctx;

  // 408: the order must belong to the login user (or one of its `<user_name>.<unit>` sub-units).
  if (typeof userId !== 'string' || (userId !== userName && !userId.startsWith(`${userName}.`))) {
    return reject(408, orderId, `user_id=${JSON.stringify(userId ?? null)}`);
  }
  // An order id we cannot key a node by is a malformed field (419) with no node to write.
  if (!ORDER_ID_PATTERN.test(orderId)) return reject(419, orderId, 'order_id');
  if (ledger.orders[orderId] !== undefined || ctx.orderIdSeen(orderId)) return reject(407, orderId);

  const inst = ctx.instrument;
  if (inst.kind === 'unknown') return reject(409, orderId, inst.symbol);
  if (inst.kind === 'not_tradable') return reject(410, orderId, `${inst.symbol} (${inst.reason})`);
  const terms = inst.terms;

  const volume = req.volume;
  if (typeof volume !== 'number' || !Number.isInteger(volume) || volume <= 0) {
    return reject(411, orderId, `volume=${String(volume)}`);
  }

  const direction = req.direction;
  const offset = req.offset;
  const price = req.limit_price;
  if (req.price_type !== 'LIMIT') return reject(419, orderId, `price_type=${String(req.price_type)}`);
  if (req.time_condition !== 'GFD' && req.time_condition !== 'IOC') {
    return reject(419, orderId, `time_condition=${String(req.time_condition)}`);
  }
  if (req.volume_condition !== 'ANY' && req.volume_condition !== 'ALL') {
    return reject(419, orderId, `volume_condition=${String(req.volume_condition)}`);
  }
  if (direction !== 'BUY' && direction !== 'SELL') return reject(419, orderId, `direction=${String(direction)}`);
  if (offset !== 'OPEN' && offset !== 'CLOSE' && offset !== 'CLOSETODAY') {
    return reject(419, orderId, `offset=${String(offset)}`);
  }
  if (typeof price !== 'number' || !Number.isFinite(price)) return reject(419, orderId, `limit_price=${String(price)}`);

  if (!ctx.inTradingTime) return reject(418, orderId);
  if (!onTickGrid(price, terms.priceTick)) return reject(412, orderId, `${price} / ${terms.priceTick}`);
  if (Number.isFinite(ctx.upperLimit) && price > ctx.upperLimit + terms.priceTick * 1e-6) {
    return reject(404, orderId, `${price} > ${ctx.upperLimit}`);
  }
  if (Number.isFinite(ctx.lowerLimit) && price < ctx.lowerLimit - terms.priceTick * 1e-6) {
    return reject(405, orderId, `${price} < ${ctx.lowerLimit}`);
  }

  if (offset !== 'OPEN') {
    const p = ledger.positions[terms.symbol];
    // A SELL closes the long side, a BUY the short side.
    const side = direction === 'SELL' ? 'long' : 'short';
    if (offset === 'CLOSETODAY') {
      const free = p ? p[`volume_${side}_today`] - p[`volume_${side}_frozen_today`] : 0;
      if (volume > free) return reject(414, orderId, `${volume} > ${free}`);
    } else {
      const free = p ? p[`volume_${side}_his`] - p[`volume_${side}_frozen_his`] : 0;
      if (volume > free) return reject(415, orderId, `${volume} > ${free}`);
    }
  } else if (volume * terms.marginPerLot > ledger.account.available) {
    return reject(413, orderId, `${volume * terms.marginPerLot} > ${ledger.account.available}`);
  }

  if (ctx.maintenance) return reject(420, orderId);

  return {
    ok: true,
    request: {
      order_id: orderId,
      user_id: userId,
      terms,
      direction,
      offset,
      volume,
      limit_price: price,
      time_condition: req.time_condition,
      volume_condition: req.volume_condition,
    },
  };
}
