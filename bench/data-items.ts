// The item documents of benchmark (f), shared by the Atrium side (bench/data-bench.ts) and the hand-written
// baseline (bench/data-raw-server.ts): 10,000 categories, so a category lookup returns items/10,000 documents.
export interface BenchItem {
  _id: string;
  sku: string;
  category: string;
  price: number;
  stock: number;
  tags: string[];
}

export function benchItem(i: number): BenchItem {
  return { _id: `item-${i}`, sku: `sku-${i}`, category: `c${i % 10000}`, price: (i % 1000) / 10, stock: i % 37, tags: ['a', `t${i % 5}`] };
}
