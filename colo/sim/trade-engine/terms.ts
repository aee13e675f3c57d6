/** What the trade engine needs to know about a tradable contract (market-protocol §2.2 sim inputs). */
export interface ContractTerms {
  /** `SHFE.cu2502` */
  symbol: string;
  exchange_id: string;
  instrument_id: string;
  /** Product (`cu`, `au`, `ag`): account margin is taken per product on its bigger side. */
  product: string;
  priceTick: number;
  volumeMultiple: number;
  marginPerLot: number;
  commissionPerLot: number;
}

/** Money is kept to the cent so identities hold exactly after many fills (no float drift in the wire values). */
export function roundMoney(x: number): number {
  const r = Math.round(x * 100) / 100;
  return r === 0 ? 0 : r;
}
