/**
 * One partition's search: Wing & Gong's backtracking with Lowe's memoization,
 * as in porcupine, written as a resumable machine so the driver can share
 * time between partitions (see checker.ts).
 *
 * The search walks an entry list of call/return events sorted by time
 * (calls before returns at equal times — the tie rule in types.ts):
 *
 *   head → call(a) → call(b) → ret(a) → call(c) → ret(b) → ret(c)
 *
 *  * At a call entry: try to linearize that op now (the model must accept its
 *    output from the current state, and the (linearized set, state) pair must
 *    be new); if so, push it, LIFT its call and return out of the list, and
 *    restart from the head.
 *  * At a return entry: that op's deadline has passed without it being
 *    linearized, so the current prefix is a dead end — pop the last op,
 *    UNLIFT it, and try the entry after it.
 *  * Empty list = every op linearized = 'ok'; backtracking past the root =
 *    'illegal'.
 *
 * Unknown-outcome ops have ret = Infinity, so their return sorts last and
 * they may be linearized anywhere after their call, or "never" (last).
 *
 * Invariants: the list holds exactly the ops not on the stack; a call entry
 * always precedes its return; `LinearizedSet` mirrors the stack; the memo
 * holds every (set, state) pushed so far. Pure: no clock, no I/O.
 */
import { LinearizedSet, MemoCache, StateInterner } from './memo.ts';
import type { Model, Operation } from './types.ts';

export type SearchStatus = 'ok' | 'illegal' | 'running';

/** The deepest dead end seen: the best explanation of an 'illegal' verdict. */
export interface DeadEnd<S> {
  /** Indexes (into the partition's ops) of the linearized prefix, in order. */
  readonly prefix: readonly number[];
  readonly state: S;
  /** The op whose return was reached without a way to linearize it. */
  readonly blockedOp: number;
}

// ---------- entry list ----------

/**
 * The doubly linked entry list over typed arrays. Node 0 is the head
 * sentinel; `next[x] === 0` means "end of list".
 */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Operation index of each node. */
  readonly op: Int32Array;
  /** For a call node, the node of its return; 0 for return nodes. */
  readonly match: Int32Array;
}

function buildEntryList<I, O>(ops: readonly Operation<I, O>[]): EntryList {
  const n = ops.length;
  // Event e < n is the call of op e; e >= n the return of op e - n.
  const events = Array.from({ length: 2 * n }, (_, e) => e);
  const timeOf = (e: number): number => (e < n ? ops[e].call : ops[e - n].ret);
  events.sort((a, b) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = a < n ? 0 : 1; // calls before returns at equal times (closed intervals)
    const kb = b < n ? 0 : 1;
    return ka - kb || a - b;
  });
  const size = 2 * n + 1;
  const list: EntryList = {
    next: new Int32Array(size),
    prev: new Int32Array(size),
    op: new Int32Array(size),
    match: new Int32Array(size),
  };
  const callNode = new Int32Array(n);
  for (let pos = 0; pos < events.length; pos++) {
    const node = pos + 1;
    const e = events[pos];
    list.prev[node] = pos;
    list.next[pos] = node;
    if (e < n) {
      list.op[node] = e;
      callNode[e] = node;
    } else {
      list.op[node] = e - n;
      list.match[callNode[e - n]] = node;
    }
  }
  list.next[2 * n] = 0;
  return list;
}

function lift(l: EntryList, call: number): void {
  l.next[l.prev[call]] = l.next[call];
  l.prev[l.next[call]] = l.prev[call];
  const ret = l.match[call];
  l.next[l.prev[ret]] = l.next[ret];
  if (l.next[ret] !== 0) l.prev[l.next[ret]] = l.prev[ret];
}

function unlift(l: EntryList, call: number): void {
  const ret = l.match[call];
  l.next[l.prev[ret]] = ret;
  if (l.next[ret] !== 0) l.prev[l.next[ret]] = ret;
  l.next[l.prev[call]] = call;
  l.prev[l.next[call]] = call;
}

// ---------- search ----------

export class PartitionSearch<S, I, O> {
  private readonly list: EntryList;
  private readonly linearized: LinearizedSet;
  private readonly memo: MemoCache;
  private readonly interner = new StateInterner();
  private readonly stackNodes: Int32Array;
  private readonly stackStates: S[];
  private readonly stackStateIds: Int32Array;
  private depth = 0;
  private state: S;
  private stateId: number;
  private node: number;
  private status: SearchStatus = 'running';
  private deepest: DeadEnd<S> | undefined;

  /** `trackDeadEnds` records the deepest dead end (costs a copy per new depth record). */
  constructor(
    private readonly model: Model<S, I, O>,
    private readonly ops: readonly Operation<I, O>[],
    private readonly trackDeadEnds: boolean,
  ) {
    const n = ops.length;
    this.list = buildEntryList(ops);
    this.linearized = new LinearizedSet(n);
    this.memo = new MemoCache(this.linearized.words.length);
    this.stackNodes = new Int32Array(n);
    this.stackStates = new Array<S>(n);
    this.stackStateIds = new Int32Array(n);
    this.state = model.init();
    this.stateId = this.interner.idOf(model.key(this.state));
    this.node = this.list.next[0];
    if (n === 0) this.status = 'ok';
  }

  /** Configurations explored so far (the memory the search holds). */
  get explored(): number {
    return this.memo.size;
  }

  get deadEnd(): DeadEnd<S> | undefined {
    return this.deepest;
  }

  /** Runs up to `maxIterations` loop steps; 'running' means call again. */
  run(maxIterations: number): SearchStatus {
    if (this.status !== 'running') return this.status;
    const { list, linearized, memo, interner, model, ops, stackNodes, stackStates, stackStateIds } = this;
    let { depth, state, stateId, node } = this;
    let status: SearchStatus = 'running';
    for (let it = 0; it < maxIterations; it++) {
      if (list.next[0] === 0) {
        status = 'ok';
        break;
      }
      const opIndex = list.op[node];
      if (list.match[node] !== 0) {
        // A call: try to linearize this op next.
        const op = ops[opIndex];
        const r = model.step(state, op.input, op.output);
        if (r.ok) {
          // A step that returns the same state object (a read) keeps its id: no key() needed.
          const nextId = r.next === state ? stateId : interner.idOf(model.key(r.next));
          linearized.set(opIndex);
          if (memo.addIfAbsent(linearized, nextId)) {
            stackNodes[depth] = node;
            stackStates[depth] = state;
            stackStateIds[depth] = stateId;
            depth++;
            state = r.next;
            stateId = nextId;
            lift(list, node);
            node = list.next[0];
            continue;
          }
          linearized.clear(opIndex);
        }
        node = list.next[node];
      } else {
        // A return: this op should have been linearized by now. Backtrack.
        if (this.trackDeadEnds && (this.deepest === undefined || depth > this.deepest.prefix.length)) {
          this.deepest = { prefix: Array.from(stackNodes.subarray(0, depth), (x) => list.op[x]), state, blockedOp: opIndex };
        }
        if (depth === 0) {
          status = 'illegal';
          break;
        }
        depth--;
        const call = stackNodes[depth];
        state = stackStates[depth];
        stateId = stackStateIds[depth];
        linearized.clear(list.op[call]);
        unlift(list, call);
        node = list.next[call];
      }
    }
    this.depth = depth;
    this.state = state;
    this.stateId = stateId;
    this.node = node;
    this.status = status;
    return status;
  }
}
