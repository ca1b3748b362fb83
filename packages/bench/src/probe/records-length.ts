// When msgpackr's records pay: lists of 2 to 50 rows (7 fields, a Date among them), scanned and decoded as Strata
// reads a Redis entry, written with maps and with records, interleaved round by round (medians of 20 rounds). What
// value-prepare.ts's RECORDS_FROM rests on.
//
//   npx tsx src/probe/records-length.ts
import { Packr } from 'msgpackr'
import { decodeValue } from '../../../prisma-strata/src/store/codec.ts'
import { prepare } from '../../../prisma-strata/src/store/value-prepare.ts'

const options = { structuredClone: false, moreTypes: false, int64AsType: 'bigint', useToJSON: false } as const
const maps = new Packr({ ...options, useRecords: false })
const records = new Packr({ ...options, useRecords: true })
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number
const at = new Date()
for (const length of [2, 3, 4, 6, 8, 12, 20, 50]) {
  const list = Array.from({ length }, (_, i) => ({
    id: i + 1,
    title: `Post ${i} of the list`,
    published: true,
    views: i,
    rating: null,
    authorId: 1,
    createdAt: at,
  }))
  const forms = {
    maps: new Uint8Array(maps.pack(prepare(list))),
    records: new Uint8Array(records.pack(prepare(list))),
  }
  const times: Record<string, number[]> = { maps: [], records: [] }
  const calls = Math.max(200, Math.floor(40_000 / length))
  for (let round = 0; round < 25; round++) {
    for (const [name, bytes] of Object.entries(forms)) {
      const t0 = performance.now()
      for (let i = 0; i < calls; i++) decodeValue(bytes)
      times[name]?.push(((performance.now() - t0) * 1000) / calls)
    }
  }
  const m = median((times.maps as number[]).slice(5))
  const r = median((times.records as number[]).slice(5))
  console.log(
    `${String(length).padStart(2)} rows: maps ${m.toFixed(2)} µs (${forms.maps.length} B), ` +
      `records ${r.toFixed(2)} µs (${forms.records.length} B), records ÷ maps ${(r / m).toFixed(2)}`,
  )
}
