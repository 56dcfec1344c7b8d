// Graph compilation: folding, CSE, dead-node removal, memory planning, and the interpreter
// that runs the planned program on per-thread workspaces.
#include "exmc/graph/compile.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <thread>

#include "exec.hpp"
#include "jit.hpp"
#include "exmc/dist/kernel.hpp"

namespace exmc::graph {
namespace {

using detail::Exec;
using detail::Ins;

[[noreturn]] void fail(const std::string& m) { throw std::invalid_argument("exmc::graph::compile: " + m); }

// ---------------------------------------------------------------- graph passes

// Nodes of the optimised graph (ids are positions; inputs always precede their users).
using Nodes = std::vector<Node>;

// Keeps the nodes reachable from roots, renumbered in order; remaps roots in place.
Nodes keep_reachable(const Nodes& in, std::vector<int>& roots) {
  std::vector<char> live(in.size(), 0);
  for (int r : roots) live[size_t(r)] = 1;
  for (size_t i = in.size(); i-- > 0;)
    if (live[i])
      for (int j : in[i].in) live[size_t(j)] = 1;
  std::vector<int> map(in.size(), -1);
  Nodes out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!live[i]) continue;
    Node n = in[i];
    for (int& j : n.in) j = map[size_t(j)];
    map[i] = int(out.size());
    out.push_back(std::move(n));
  }
  for (int& r : roots) r = map[size_t(r)];
  return out;
}

Ins make_ins(const Nodes& nodes, int id) {
  const Node& nd = nodes[size_t(id)];
  Ins I;
  I.op = nd.op;
  I.node = id;
  I.n = uint32_t(shape_size(nd.shape));
  I.in = nd.in;
  for (int j : nd.in) I.in_size.push_back(uint32_t(shape_size(nodes[size_t(j)].shape)));
  I.offset = uint32_t(nd.offset);
  I.idx = nd.index;
  if (nd.op == Op::kGather && !nd.index.empty()) {
    std::vector<uint32_t> runs;
    for (size_t i = 0; i < nd.index.size();) {
      size_t j = i + 1;
      while (j < nd.index.size() && nd.index[j] == nd.index[i]) ++j;
      runs.insert(runs.end(), {uint32_t(nd.index[i]), uint32_t(i), uint32_t(j - i)});
      i = j;
    }
    if (runs.size() / 3 * 4 <= nd.index.size()) I.runs = std::move(runs);  // runs of 4+ on average
  }
  I.dist = nd.dist;
  I.propto = nd.propto;
  auto dims = [&](int k) -> const Shape& { return nodes[size_t(nd.in[size_t(k)])].shape; };
  const bool ew = (nd.op >= Op::kAdd && nd.op <= Op::kInvPhi);
  I.scalar_ew = ew && I.n == 1;
  switch (nd.op) {
    case Op::kAdd: case Op::kSub: case Op::kMul: case Op::kDiv: case Op::kPow:
    case Op::kFmin: case Op::kFmax:
      I.mode = (I.in_size[0] == I.in_size[1]) ? 0 : (I.in_size[0] == 1 ? 1 : 2);
      break;
    case Op::kMatVec: I.r = uint32_t(dims(0)[0]); I.c = uint32_t(dims(0)[1]); break;
    case Op::kMatMul:
      I.r = uint32_t(dims(0)[0]); I.k = uint32_t(dims(0)[1]); I.c = uint32_t(dims(1)[1]);
      break;
    case Op::kTranspose: I.r = uint32_t(dims(0)[0]); I.c = uint32_t(dims(0)[1]); break;
    case Op::kCholesky: case Op::kLogDet: I.r = uint32_t(dims(0)[0]); break;
    case Op::kMdivLeftTriLow:
      I.r = uint32_t(dims(0)[0]);
      I.c = dims(1).size() == 2 ? uint32_t(dims(1)[1]) : 1;
      break;
    default: break;
  }
  return I;
}

void fill_args(const Nodes& nodes, const Node& nd, std::vector<dist::Arg<double>>& args) {
  args.resize(nd.in.size());
  for (size_t k = 0; k < nd.in.size(); ++k) {
    const Node& a = nodes[size_t(nd.in[k])];
    args[k] = dist::Arg<double>{};
    args[k].size = shape_size(a.shape);
    args[k].rows = a.shape.size() >= 1 ? a.shape[0] : 1;
    args[k].cols = a.shape.size() >= 2 ? a.shape[1] : 1;
    args[k].is_param = a.depends_on_params;
  }
}

// Evaluates a node whose inputs are all constants, in double.
std::vector<double> eval_const(const Nodes& nodes, int id) {
  const Node& nd = nodes[size_t(id)];
  Ins I = make_ins(nodes, id);
  std::vector<double> out(std::max<size_t>(I.n, 1));
  std::vector<const double*> in;
  std::vector<double*> ain(nd.in.size(), nullptr);
  for (int j : nd.in) in.push_back(nodes[size_t(j)].values.data());
  std::vector<double> fscr(detail::fwd_scratch_size(I, false));
  std::vector<dist::Arg<double>> args;
  double dval = 0;
  Exec<double> E;
  E.out = out.data();
  E.fscr = fscr.data();
  E.in = in.data();
  E.ain = ain.data();
  if (nd.op == Op::kDistLpdf) {
    fill_args(nodes, nd, args);
    for (size_t k = 0; k < args.size(); ++k) args[k].val = in[k];
    E.args = args.data();
    E.dval = &dval;
  }
  detail::forward(I, E, nullptr, false);
  out.resize(I.n);
  return out;
}

void fold_constants(Nodes& nodes) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& nd = nodes[i];
    if (nd.depends_on_params || nd.op == Op::kConst || nd.op == Op::kParam) continue;
    std::vector<double> v = eval_const(nodes, int(i));
    Node c;
    c.op = Op::kConst;
    c.shape = nd.shape;
    c.values = std::move(v);
    nodes[i] = std::move(c);
  }
}

// Peephole rewrites that drop work translated code often carries: x + 0, x - 0, x * 1,
// x / 1 (when the shape is unchanged), log(exp(x)), sum or mean of a scalar, and dot_self of a
// scalar (a square).
void simplify(Nodes& nodes, std::vector<int>& roots) {
  std::vector<int> alias(nodes.size());
  auto all_equal = [&](int id, double v) {
    const Node& n = nodes[size_t(id)];
    if (n.op != Op::kConst) return false;
    for (double x : n.values) if (x != v) return false;
    return true;
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& n = nodes[i];
    for (int& j : n.in) j = alias[size_t(j)];
    alias[i] = int(i);
    auto same_shape = [&](int k) { return nodes[size_t(n.in[size_t(k)])].shape == n.shape; };
    switch (n.op) {
      case Op::kAdd:
        if (all_equal(n.in[1], 0.0) && same_shape(0)) alias[i] = n.in[0];
        else if (all_equal(n.in[0], 0.0) && same_shape(1)) alias[i] = n.in[1];
        break;
      case Op::kSub:
        if (all_equal(n.in[1], 0.0) && same_shape(0)) alias[i] = n.in[0];
        break;
      case Op::kMul:
        if (all_equal(n.in[1], 1.0) && same_shape(0)) alias[i] = n.in[0];
        else if (all_equal(n.in[0], 1.0) && same_shape(1)) alias[i] = n.in[1];
        break;
      case Op::kDiv:
        if (all_equal(n.in[1], 1.0) && same_shape(0)) alias[i] = n.in[0];
        break;
      case Op::kLog:
        if (nodes[size_t(n.in[0])].op == Op::kExp) alias[i] = nodes[size_t(n.in[0])].in[0];
        break;
      case Op::kSum: case Op::kMean:  // of a scalar: the scalar itself
        if (same_shape(0)) alias[i] = n.in[0];
        break;
      case Op::kDotSelf:  // of a scalar: a square, which takes the scalar fast path
        if (same_shape(0)) n.op = Op::kSquare;
        break;
      default: break;
    }
  }
  for (int& r : roots) r = alias[size_t(r)];
}

// Hash-consing: structurally identical nodes (same op, attributes, inputs, or same constant
// values) become one.
Nodes cse(const Nodes& in, std::vector<int>& roots) {
  std::map<std::string, int> seen;
  std::vector<int> map(in.size());
  Nodes out;
  for (size_t i = 0; i < in.size(); ++i) {
    Node n = in[i];
    for (int& j : n.in) j = map[size_t(j)];
    std::string key;
    auto put = [&key](const void* p, size_t bytes) { key.append(static_cast<const char*>(p), bytes); };
    const uint8_t op = uint8_t(n.op);
    put(&op, 1);
    const size_t rank = n.shape.size();
    put(&rank, sizeof rank);
    put(n.shape.data(), rank * sizeof(size_t));
    const size_t nin = n.in.size();
    put(&nin, sizeof nin);
    put(n.in.data(), nin * sizeof(int));
    put(&n.offset, sizeof n.offset);
    put(&n.dist, sizeof n.dist);
    put(&n.propto, sizeof n.propto);
    put(n.index.data(), n.index.size() * sizeof(int));
    put(n.values.data(), n.values.size() * sizeof(double));
    auto [it, fresh] = seen.emplace(std::move(key), int(out.size()));
    if (fresh) out.push_back(std::move(n));
    map[i] = it->second;
  }
  for (int& r : roots) r = map[size_t(r)];
  return out;
}

// ---------------------------------------------------------------- memory plan

struct Interval {
  size_t start, end, size;  // times inclusive; size in elements
  size_t* where;            // receives the arena offset
};

// Packs intervals into one arena: two buffers share memory only if their lifetimes are
// disjoint. First-fit over a sorted free list. Returns the arena size.
size_t pack(std::vector<Interval>& iv) {
  std::sort(iv.begin(), iv.end(), [](const Interval& a, const Interval& b) {
    return a.start != b.start ? a.start < b.start : a.size > b.size;
  });
  std::vector<std::pair<size_t, size_t>> free_list;  // (offset, size), sorted by offset
  std::vector<const Interval*> active;
  size_t top = 0;
  auto release = [&](size_t off, size_t sz) {
    auto it = std::lower_bound(free_list.begin(), free_list.end(), std::make_pair(off, size_t(0)));
    it = free_list.insert(it, {off, sz});
    if (it + 1 != free_list.end() && it->first + it->second == (it + 1)->first) {
      it->second += (it + 1)->second;
      free_list.erase(it + 1);
    }
    if (it != free_list.begin() && (it - 1)->first + (it - 1)->second == it->first) {
      (it - 1)->second += it->second;
      it = free_list.erase(it) - 1;
    }
    if (it->first + it->second == top) {  // give the tail back to the arena
      top = it->first;
      free_list.erase(it);
    }
  };
  for (Interval& v : iv) {
    for (size_t a = 0; a < active.size();) {
      if (active[a]->end < v.start) {
        release(*active[a]->where, active[a]->size);
        active[a] = active.back();
        active.pop_back();
      } else {
        ++a;
      }
    }
    if (v.size == 0) { *v.where = 0; continue; }
    bool placed = false;
    for (size_t f = 0; f < free_list.size(); ++f) {
      if (free_list[f].second >= v.size) {
        *v.where = free_list[f].first;
        free_list[f].first += v.size;
        free_list[f].second -= v.size;
        if (free_list[f].second == 0) free_list.erase(free_list.begin() + long(f));
        placed = true;
        break;
      }
    }
    if (!placed) { *v.where = top; top += v.size; }
    active.push_back(&v);
  }
  size_t hi = 0;
  for (const Interval& v : iv) hi = std::max(hi, *v.where + v.size);
  return hi;
}

constexpr size_t kNone = size_t(-1);

// ---------------------------------------------------------------- programs

template <class T>
struct Workspace;

// A planned program over the optimised graph: forward-only (outputs) or forward + reverse.
template <class T>
struct Program {
  bool grad = false;
  std::vector<Ins> ins;
  // Per instruction: arena offsets.
  std::vector<size_t> out_off, adj_off, fscr_off, bscr_off;
  // Per instruction: adjoint buffers to zero before its backward step / its forward step.
  std::vector<std::vector<int>> zero_before, zero_fwd;
  // Per instruction: a dist node whose kernel writes partials straight into input adjoints.
  std::vector<char> direct;
  // Node id -> instruction index (-1 for constants and params); node id -> constant block offset.
  std::vector<int> ins_of;
  // Parameters are no instructions: x is converted once into a value block at the start of
  // the arena, and every param node reads its slice; their adjoints share one block (zeroed
  // at the start of a gradient, so overlapping params simply add) that becomes g at the end.
  size_t dim = 0, pblock = 0, ablock = kNone;
  std::vector<size_t> const_off;
  std::vector<T> consts;
  const Nodes* nodes = nullptr;
  size_t arena = 0, arena_unplanned = 0, n_dist = 0, n_inputs = 0;
  // Terms of the total (grad program): node id and sign; constant part in double.
  std::vector<std::pair<int, double>> terms;
  double const_total = 0;
  std::vector<int> term_ins;  // instruction of each term (-1: none)
  std::vector<int> term_zero; // term adjoints zeroed before seeding (not already holding partials)
  std::vector<int> dist_slot; // per instruction: index into dval (-1 if not a dist)
  size_t align = 64 / sizeof(T);

  size_t round(size_t n) const { return (n + align - 1) / align * align; }

  void build(const Nodes& g, const std::vector<int>& roots, bool with_grad,
             const std::vector<std::pair<int, double>>& term_list, size_t n_params) {
    nodes = &g;
    dim = n_params;
    grad = with_grad;
    terms = term_list;
    // Reachable non-constant nodes become instructions, in order.
    std::vector<char> live(g.size(), 0);
    for (int r : roots) live[size_t(r)] = 1;
    for (size_t i = g.size(); i-- > 0;)
      if (live[i]) for (int j : g[i].in) live[size_t(j)] = 1;
    ins_of.assign(g.size(), -1);
    const_off.assign(g.size(), kNone);
    for (size_t i = 0; i < g.size(); ++i) {
      if (!live[i]) continue;
      if (g[i].op == Op::kConst) {
        const_off[i] = consts.size();
        for (double v : g[i].values) consts.push_back(T(v));
        consts.resize(round(consts.size()));
        continue;
      }
      if (g[i].op == Op::kParam) continue;
      ins_of[i] = int(ins.size());
      ins.push_back(make_ins(g, int(i)));
      ins.back().has_adj = grad && g[i].depends_on_params;
    }
    const size_t N = ins.size();
    out_off.assign(N, 0); adj_off.assign(N, kNone); fscr_off.assign(N, 0); bscr_off.assign(N, 0);
    zero_before.assign(N, {});
    zero_fwd.assign(N, {});
    direct.assign(N, 0);
    dist_slot.assign(N, -1);
    // Lifetimes. Forward step of i at time i; the accumulation of the total at N; backward
    // step of i at 2N - i.
    std::vector<size_t> val_end(N), max_cons(N, 0);
    std::vector<char> has_cons(N, 0);
    for (size_t i = 0; i < N; ++i) {
      val_end[i] = i;
      if (grad && detail::bwd_reads_output(ins[i].op)) val_end[i] = std::max(val_end[i], 2 * N - i);
    }
    for (size_t j = 0; j < N; ++j) {
      n_inputs += ins[j].in.size();
      for (int nid : ins[j].in) {
        const int i = ins_of[size_t(nid)];
        if (i < 0) continue;
        val_end[size_t(i)] = std::max(val_end[size_t(i)], j);
        if (grad && detail::bwd_reads_inputs(ins[j].op))
          val_end[size_t(i)] = std::max(val_end[size_t(i)], 2 * N - j);
        max_cons[size_t(i)] = std::max(max_cons[size_t(i)], j);
        has_cons[size_t(i)] = 1;
      }
      if (ins[j].op == Op::kDistLpdf) dist_slot[j] = int(n_dist++);
    }
    std::vector<char> is_term(N, 0);
    term_ins.clear();
    for (auto& [nid, sign] : terms) {
      const int i = ins_of[size_t(nid)];
      term_ins.push_back(i);
      if (i >= 0) { is_term[size_t(i)] = 1; val_end[size_t(i)] = std::max(val_end[size_t(i)], N); }
    }
    // A dist node that is a +1 term used nowhere else has upstream adjoint exactly 1: its
    // kernel can add partials into its inputs' adjoints during the forward sweep. Those
    // adjoints are then zeroed at the first such forward step instead of during the reverse.
    std::vector<size_t> first_direct(N, kNone);
    if (grad) {
      std::vector<int> term_count(N, 0);
      for (size_t t = 0; t < terms.size(); ++t)
        if (term_ins[t] >= 0) ++term_count[size_t(term_ins[t])];
      for (size_t t = 0; t < terms.size(); ++t) {
        const int i = term_ins[t];
        if (i < 0 || ins[size_t(i)].op != Op::kDistLpdf || terms[t].second != 1.0 ||
            term_count[size_t(i)] != 1 || has_cons[size_t(i)])
          continue;
        direct[size_t(i)] = 1;
      }
      for (size_t i = 0; i < N; ++i) {  // in execution order: zero before the first writer
        if (!direct[i]) continue;
        for (int nid : ins[i].in) {
          const int a = ins_of[size_t(nid)];
          if (a >= 0 && first_direct[size_t(a)] == kNone) {
            first_direct[size_t(a)] = i;
            zero_fwd[i].push_back(a);
          }
        }
      }
    }
    term_zero.clear();
    for (int i : term_ins)
      if (i >= 0 && grad && ins[size_t(i)].has_adj && first_direct[size_t(i)] == kNone) term_zero.push_back(i);
    // Forward-only programs keep their roots until the outputs are copied out (time N).
    if (!grad)
      for (int r : roots)
        if (ins_of[size_t(r)] >= 0) val_end[size_t(ins_of[size_t(r)])] = N;
    std::vector<Interval> iv;
    for (size_t i = 0; i < N; ++i) {
      const Ins& I = ins[i];
      iv.push_back({i, val_end[i], round(I.n), &out_off[i]});
      arena_unplanned += round(I.n);
      if (const size_t f = direct[i] ? 0 : detail::fwd_scratch_size(I, grad)) {
        iv.push_back({i, grad ? 2 * N - i : i, round(f), &fscr_off[i]});
        arena_unplanned += round(f);
      }
      if (I.has_adj) {
        size_t start;
        if (first_direct[i] != kNone) start = first_direct[i];
        else if (is_term[i]) start = N;
        else {
          if (!has_cons[i]) fail("internal: a differentiable node has no consumer");
          start = 2 * N - max_cons[i];
          zero_before[max_cons[i]].push_back(int(i));
        }
        iv.push_back({start, 2 * N - i, round(I.n), &adj_off[i]});
        arena_unplanned += round(I.n);
        if (const size_t b = detail::bwd_scratch_size(I)) {
          iv.push_back({2 * N - i, 2 * N - i, round(b), &bscr_off[i]});
          arena_unplanned += round(b);
        }
      }
    }
    const size_t base = round(dim) * (grad ? 2 : 1);
    pblock = 0;
    ablock = grad ? round(dim) : kNone;
    arena = base + pack(iv);
    arena_unplanned += base;
    for (Interval& v : iv) *v.where += base;
  }
};

template <class T>
struct alignas(64) Workspace {
  T* arena = nullptr;
  std::vector<Exec<T>> ex;
  std::vector<const T*> inv;
  std::vector<T*> ina;
  std::vector<T*> dgr;
  std::vector<dist::Arg<T>> args;
  std::vector<double> dval;
  std::vector<double> gscratch;  // logp's gradient, discarded (JIT backend)
  // Resolved per-call bookkeeping: buffers to zero (pointer, bytes) with per-instruction
  // ranges, the terms of the total, and the adjoint seeds.
  struct Zero { void* p; size_t bytes; };
  std::vector<Zero> zeros;
  std::vector<uint32_t> zf, zb;  // instruction i zeroes zeros[zf[i] .. zf[i+1]) before its forward step
  std::vector<std::pair<const double*, double>> dterms;
  std::vector<std::pair<const T*, double>> tterms;
  std::vector<T*> seed_zero;
  std::vector<std::pair<T*, T>> seeds;

  explicit Workspace(const Program<T>& P) {
    arena = static_cast<T*>(::operator new(std::max<size_t>(P.arena, 1) * sizeof(T), std::align_val_t(64)));
    std::memset(static_cast<void*>(arena), 0, std::max<size_t>(P.arena, 1) * sizeof(T));
    const size_t N = P.ins.size();
    ex.resize(N);
    inv.resize(P.n_inputs);
    ina.resize(P.n_inputs);
    dgr.resize(P.n_inputs);
    dval.resize(P.n_dist);
    gscratch.resize(P.dim);
    size_t n_args = 0;
    for (const Ins& I : P.ins) if (I.op == Op::kDistLpdf) n_args += I.in.size();
    args.resize(n_args);
    size_t q = 0, qa = 0;
    auto val_ptr = [&](int nid) { return value(P, nid); };
    auto adj_ptr = [&](int nid) { return adjoint(P, nid); };
    for (size_t i = 0; i < N; ++i) {
      const Ins& I = P.ins[i];
      Exec<T>& E = ex[i];
      E.out = arena + P.out_off[i];
      E.adj = P.adj_off[i] != kNone ? arena + P.adj_off[i] : nullptr;
      E.fscr = arena + P.fscr_off[i];
      E.bscr = arena + P.bscr_off[i];
      E.in = inv.data() + q;
      E.ain = ina.data() + q;
      if (P.direct[i]) E.dgrad = dgr.data() + q;
      for (int nid : I.in) { inv[q] = val_ptr(nid); ina[q] = adj_ptr(nid); dgr[q] = ina[q]; ++q; }
      if (I.op == Op::kDistLpdf) {
        E.args = args.data() + qa;
        E.dval = dval.data() + P.dist_slot[i];
        for (size_t k = 0; k < I.in.size(); ++k) {
          const Node& a = (*P.nodes)[size_t(I.in[k])];
          dist::Arg<T>& A = args[qa++];
          A.val = val_ptr(I.in[k]);
          A.size = shape_size(a.shape);
          A.rows = a.shape.size() >= 1 ? a.shape[0] : 1;
          A.cols = a.shape.size() >= 2 ? a.shape[1] : 1;
          A.is_param = a.depends_on_params;
          A.grad = nullptr;
        }
      }
    }
    bind_lists(P);
  }
  const T* value(const Program<T>& P, int nid) const {
    const Node& n = (*P.nodes)[size_t(nid)];
    if (n.op == Op::kParam) return arena + P.pblock + n.offset;
    const int i = P.ins_of[size_t(nid)];
    return i >= 0 ? arena + P.out_off[size_t(i)] : P.consts.data() + P.const_off[size_t(nid)];
  }
  T* adjoint(const Program<T>& P, int nid) const {
    const Node& n = (*P.nodes)[size_t(nid)];
    if (n.op == Op::kParam) return P.ablock != kNone ? arena + P.ablock + n.offset : nullptr;
    const int i = P.ins_of[size_t(nid)];
    return (i >= 0 && P.adj_off[size_t(i)] != kNone) ? arena + P.adj_off[size_t(i)] : nullptr;
  }
  void bind_lists(const Program<T>& P) {
    const size_t N = P.ins.size();
    auto zero_of = [&](int z) { return Zero{ex[size_t(z)].adj, P.ins[size_t(z)].n * sizeof(T)}; };
    zf.assign(N + 1, 0);
    zb.assign(N + 1, 0);
    for (size_t i = 0; i < N; ++i) {
      zf[i] = uint32_t(zeros.size());
      for (int z : P.zero_fwd[i]) zeros.push_back(zero_of(z));
    }
    zf[N] = uint32_t(zeros.size());
    for (size_t i = 0; i < N; ++i) {
      zb[i] = uint32_t(zeros.size());
      for (int z : P.zero_before[i]) zeros.push_back(zero_of(z));
    }
    zb[N] = uint32_t(zeros.size());
    for (size_t t = 0; t < P.terms.size(); ++t) {
      const int i = P.term_ins[size_t(t)], nid = P.terms[t].first;
      const double sign = P.terms[t].second;
      if (i >= 0 && P.dist_slot[size_t(i)] >= 0) dterms.push_back({dval.data() + P.dist_slot[size_t(i)], sign});
      else tterms.push_back({value(P, nid), sign});
      if (T* a = adjoint(P, nid)) seeds.push_back({a, T(sign)});
    }
    for (int z : P.term_zero) seed_zero.push_back(ex[size_t(z)].adj);
  }
  ~Workspace() { ::operator delete(static_cast<void*>(arena), std::align_val_t(64)); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
};

// The gradient program as the JIT backend sees it: the same instructions, arena offsets and
// buffers to zero that the interpreter's run() uses.
template <class T>
detail::JitPlan<T> jit_plan(const Program<T>& P) {
  detail::JitPlan<T> plan;
  plan.dim = P.dim;
  plan.pblock = P.pblock;
  plan.ablock = P.ablock;
  plan.arena = P.arena;
  plan.const_total = P.const_total;
  const Nodes& g = *P.nodes;
  auto operand = [&](int nid) {
    detail::JitOperand<T> o;
    const Node& n = g[size_t(nid)];
    o.n = uint32_t(shape_size(n.shape));
    o.param = n.depends_on_params;
    if (n.op == Op::kParam) {
      o.off = P.pblock + n.offset;
    } else if (const int i = P.ins_of[size_t(nid)]; i >= 0) {
      o.off = P.out_off[size_t(i)];
      o.producer = i;
    } else {
      o.data = P.consts.data() + P.const_off[size_t(nid)];
    }
    return o;
  };
  auto adjoint = [&](int nid) -> size_t {
    const Node& n = g[size_t(nid)];
    if (n.op == Op::kParam) return P.ablock + n.offset;
    const int i = P.ins_of[size_t(nid)];
    return (i >= 0 && P.adj_off[size_t(i)] != kNone) ? P.adj_off[size_t(i)] : detail::kNoOffset;
  };
  for (size_t i = 0; i < P.ins.size(); ++i) {
    detail::JitIns<T> J;
    J.ins = &P.ins[i];
    J.out = P.out_off[i];
    J.adj = P.adj_off[i] != kNone ? P.adj_off[i] : detail::kNoOffset;
    J.direct = P.direct[i] != 0;
    for (int nid : P.ins[i].in) {
      J.in.push_back(operand(nid));
      J.in_adj.push_back(adjoint(nid));
    }
    J.zero_fwd = P.zero_fwd[i];
    J.zero_bwd = P.zero_before[i];
    plan.ins.push_back(std::move(J));
  }
  for (size_t t = 0; t < P.terms.size(); ++t) {
    const int i = P.term_ins[t], nid = P.terms[t].first;
    typename detail::JitPlan<T>::Term term;
    term.sign = P.terms[t].second;
    if (i >= 0 && P.dist_slot[size_t(i)] >= 0) term.ins = i;
    else term.value = operand(nid);
    plan.terms.push_back(term);
    if (const size_t a = adjoint(nid); a != detail::kNoOffset) plan.seeds.push_back({a, term.sign});
  }
  for (int z : P.term_zero) plan.seed_zero.push_back(P.adj_off[size_t(z)]);
  return plan;
}

bool use_jit(Backend b) {
  if (b == Backend::kInterpreter) return false;
  if (b == Backend::kJit) return true;
  const char* env = std::getenv("EXMC_BACKEND");
  return detail::jit_available() && !(env && std::string(env) == "interpreter");
}

// A thread's identity for workspace ownership, marked dead when the thread exits. Tokens are
// never freed (one small object per thread that ever evaluated a density), so a pool may read
// a dead thread's token at any time. Each thread also starts its search for a free workspace
// at its own slot (hint), so threads that keep calling one density keep their own workspace.
struct ThreadToken {
  std::atomic<bool> alive{true};
  size_t hint = 0;
};
// Constant-initialised, so the common path is one thread-local load (no guard, no call).
thread_local ThreadToken* t_token = nullptr;

ThreadToken* make_thread_token() {
  static std::atomic<size_t> counter{0};
  struct Holder {  // marks the token dead when the thread exits
    ThreadToken* token = new ThreadToken;
    ~Holder() { token->alive.store(false, std::memory_order_release); }
  };
  thread_local Holder holder;
  holder.token->hint = counter.fetch_add(1, std::memory_order_relaxed);
  t_token = holder.token;
  return t_token;
}
inline ThreadToken* this_thread_token() {
  ThreadToken* t = t_token;
  return t ? t : make_thread_token();
}

// A fixed pool of lazily created workspaces. A thread claims a slot once (one compare-and-swap)
// and keeps it until it exits; later calls find their slot with plain loads. An atomic
// exchange per call cost 6 ns, as much as a whole small model's gradient. A slot whose owner
// has exited is taken over by the next thread that needs one.
template <class W, class P>
class Pool {
 public:
  explicit Pool(const P* prog) : prog_(prog) {}
  ~Pool() { for (auto& s : slots_) delete s.ws; }

  // Runs f(workspace&) on a workspace no other thread is using. The common case, a thread
  // calling again, is one thread-local load and one compare.
  template <class F>
  [[gnu::always_inline]] auto with(F&& f) const {
    ThreadToken* me = this_thread_token();
    const Slot& s = slots_[me->hint % kMaxWorkspaces];
    if (s.owner.load(std::memory_order_relaxed) == me) [[likely]] return f(*s.ws);
    return with_slow(me, f);
  }

 private:
  template <class F>
  [[gnu::noinline]] auto with_slow(ThreadToken* me, F& f) const {
    const size_t hint = me->hint;
    for (size_t t = 1; t < kMaxWorkspaces; ++t) {
      Slot& s = slots_[(hint + t) % kMaxWorkspaces];
      if (s.owner.load(std::memory_order_relaxed) == me) return f(*s.ws);
    }
    for (size_t t = 0; t < kMaxWorkspaces; ++t) {
      Slot& s = slots_[(hint + t) % kMaxWorkspaces];
      ThreadToken* o = s.owner.load(std::memory_order_acquire);
      if (o && o->alive.load(std::memory_order_acquire)) continue;
      if (!s.owner.compare_exchange_strong(o, me, std::memory_order_acq_rel)) continue;
      if (!s.ws) s.ws = new W(*prog_);
      return f(*s.ws);
    }
    W tmp(*prog_);  // more than kMaxWorkspaces live threads have used this density
    return f(tmp);
  }

  struct alignas(64) Slot {
    std::atomic<ThreadToken*> owner{nullptr};
    W* ws = nullptr;
  };
  const P* prog_;
  mutable Slot slots_[kMaxWorkspaces];
};

template <class T>
class Compiled final : public CompiledDensity {
 public:
  Compiled(Nodes nodes, std::vector<std::pair<int, double>> terms, std::vector<int> outputs,
           std::vector<VarInfo> vars, size_t dim, UnconstrainFn unc,
           std::vector<std::string> unconstrained_names, Backend backend)
      : nodes_(std::move(nodes)), outputs_(std::move(outputs)), vars_(std::move(vars)),
        dim_(dim), unconstrain_(std::move(unc)),
        unconstrained_names_(std::move(unconstrained_names)) {
    std::vector<int> roots;
    for (auto& t : terms) roots.push_back(t.first);
    double c = 0;
    std::vector<std::pair<int, double>> live_terms;
    for (auto& [nid, sign] : terms) {
      const Node& n = nodes_[size_t(nid)];
      if (n.op == Op::kConst) c += sign * n.values[0];
      else live_terms.push_back({nid, sign});
    }
    std::vector<int> live_roots;
    for (auto& t : live_terms) live_roots.push_back(t.first);
    grad_.build(nodes_, live_roots, true, live_terms, dim_);
    grad_.const_total = c;
    out_.build(nodes_, outputs_, false, {}, dim_);
    // Under kAuto, programs of more than kAutoJitMaxInstructions stay interpreted: they come
    // from loops unrolled by a front end (posteriordb's low_dim_gauss_mix: 8029 instructions,
    // 9 s to compile, and the straight-line code ran 1.4x slower than the interpreter's loop).
    const bool small = grad_.ins.size() <= kAutoJitMaxInstructions;
    if (use_jit(backend) && !grad_.ins.empty() && (backend == Backend::kJit || small)) {
      std::string why;  // jit_compile says why it could not (no LLVM in this build, say)
      jit_ = detail::jit_compile(jit_plan(grad_), &why);
      if (jit_ && jit_->self_contained) self_contained_ = jit_->fn;
      if (!jit_ && backend == Backend::kJit) throw std::runtime_error("exmc::graph::compile: " + why);
    }
  }

  size_t dim() const override { return dim_; }

  double logp_grad(const double* x, double* g) const override {
    if (self_contained_) return self_contained_(x, g, nullptr, nullptr);
    if (jit_)
      return grad_pool_.with([&](Workspace<T>& ws) { return jit_->fn(x, g, ws.arena, ws.ex.data()); });
    return grad_pool_.with([&](Workspace<T>& ws) { return run(ws, x, g); });
  }
  // With the JIT, logp runs the generated gradient too (into a workspace buffer), so that it
  // returns exactly logp_grad's value: the two backends sum in different orders.
  double logp(const double* x) const override {
    if (jit_)
      return grad_pool_.with([&](Workspace<T>& ws) {
        return jit_->fn(x, ws.gscratch.data(), ws.arena, ws.ex.data());
      });
    return grad_pool_.with([&](Workspace<T>& ws) { return run(ws, x, nullptr); });
  }
  std::vector<VarInfo> output_vars() const override {
    return vars_.empty() && outputs_.empty() ? LogDensity::output_vars() : vars_;
  }
  void constrain(const double* x, double* out) const override {
    if (outputs_.empty()) { LogDensity::constrain(x, out); return; }
    out_pool_.with([&](Workspace<double>& ws) {
      // A model without parameters has no parameter block (and may have a null x).
      if (dim_ > 0) std::memcpy(ws.arena + out_.pblock, x, dim_ * sizeof(double));
      for (size_t i = 0; i < out_.ins.size(); ++i) detail::forward(out_.ins[i], ws.ex[i], x, false);
      size_t o = 0;
      for (int nid : outputs_) {
        const size_t n = shape_size(nodes_[size_t(nid)].shape);
        const double* src = ws.value(out_, nid);
        if (n > 0) std::memcpy(out + o, src, n * sizeof(double));
        o += n;
      }
      return 0;
    });
  }
  bool unconstrain(const std::vector<std::pair<std::string, std::vector<double>>>& values,
                   double* x, std::string* error) const override {
    if (unconstrain_) return unconstrain_(values, x, error);
    return LogDensity::unconstrain(values, x, error);
  }
  std::vector<std::string> unconstrained_names() const override {
    return unconstrained_names_.empty() ? LogDensity::unconstrained_names() : unconstrained_names_;
  }

  size_t nodes_per_gradient() const override { return grad_.ins.size(); }
  size_t arena_bytes() const override { return grad_.arena * sizeof(T); }
  size_t arena_bytes_unplanned() const override { return grad_.arena_unplanned * sizeof(T); }
  bool single_precision() const override { return std::is_same_v<T, float>; }
  Backend backend() const override { return jit_ ? Backend::kJit : Backend::kInterpreter; }

  std::string dump() const override {
    std::string s;
    if (jit_)
      s += "# jit: " + std::to_string(jit_->inlined) + " instructions inline, " +
           std::to_string(jit_->called) + " as kernel calls\n";
    for (size_t i = 0; i < grad_.ins.size(); ++i) {
      const Ins& I = grad_.ins[i];
      s += "%" + std::to_string(I.node) + " = " + op_name(I.op) + "(";
      for (size_t k = 0; k < I.in.size(); ++k)
        s += (k ? ", %" : "%") + std::to_string(I.in[k]) +
             (nodes_[size_t(I.in[k])].op == Op::kConst ? "c" : "");
      s += ") " + shape_str(nodes_[size_t(I.node)].shape) + " @" + std::to_string(grad_.out_off[i]);
      if (grad_.adj_off[i] != kNone) s += " adj@" + std::to_string(grad_.adj_off[i]);
      s += "\n";
    }
    return s;
  }

 private:
  static void zero(const typename Workspace<T>::Zero& z) {
    if (z.bytes == sizeof(T)) {  // scalars: one store beats a memset call (or rep stos)
      *static_cast<T*>(z.p) = T(0);
    } else {
      std::memset(z.p, 0, z.bytes);
    }
  }

  double run(Workspace<T>& ws, const double* x, double* g) const {
    const Program<T>& P = grad_;
    const bool grad = g != nullptr;
    const size_t N = P.ins.size();
    const Ins* ins = P.ins.data();
    const Exec<T>* ex = ws.ex.data();
    const typename Workspace<T>::Zero* zeros = ws.zeros.data();
    T* pv = ws.arena + P.pblock;
    for (size_t k = 0; k < dim_; ++k) pv[k] = T(x[k]);
    T* pa = grad ? ws.arena + P.ablock : nullptr;
    if (grad) {
      for (size_t k = 0; k < dim_; ++k) pa[k] = T(0);
      const uint32_t* zf = ws.zf.data();
      for (size_t i = 0; i < N; ++i) {
        for (uint32_t z = zf[i]; z < zf[i + 1]; ++z) zero(zeros[z]);
        detail::forward(ins[i], ex[i], x, true);
      }
    } else {
      for (size_t i = 0; i < N; ++i) detail::forward(ins[i], ex[i], x, false);
    }
    double total = P.const_total;
    for (const auto& [p, sign] : ws.dterms) total += sign * *p;
    for (const auto& [p, sign] : ws.tterms) total += sign * double(*p);
    if (!grad) return total;
    for (T* a : ws.seed_zero) a[0] = T(0);
    for (const auto& [a, sign] : ws.seeds) a[0] += sign;
    const uint32_t* zb = ws.zb.data();
    for (size_t i = N; i-- > 0;) {
      for (uint32_t z = zb[i]; z < zb[i + 1]; ++z) zero(zeros[z]);
      if (ins[i].has_adj) detail::backward(ins[i], ex[i], g);
    }
    for (size_t k = 0; k < dim_; ++k) g[k] = double(pa[k]);
    return total;
  }

  Nodes nodes_;
  std::vector<int> outputs_;
  std::vector<VarInfo> vars_;
  size_t dim_;
  UnconstrainFn unconstrain_;
  std::vector<std::string> unconstrained_names_;
  Program<T> grad_;
  Program<double> out_;
  Pool<Workspace<T>, Program<T>> grad_pool_{&grad_};
  Pool<Workspace<double>, Program<double>> out_pool_{&out_};
  std::unique_ptr<detail::JitCode<T>> jit_;
  typename detail::JitCode<T>::Fn self_contained_ = nullptr;  // jit_->fn when it needs no workspace
};

// Splits a scalar sum/difference tree at the top of the target into terms accumulated in
// double. An inner +/- node is split only if nothing else uses it.
void collect_terms(const Nodes& g, int id, double sign, const std::vector<int>& uses,
                   std::vector<std::pair<int, double>>& terms, bool top) {
  const Node& n = g[size_t(id)];
  if ((n.op == Op::kAdd || n.op == Op::kSub) && shape_size(n.shape) == 1 &&
      (top || uses[size_t(id)] == 1) && shape_size(g[size_t(n.in[0])].shape) == 1 &&
      shape_size(g[size_t(n.in[1])].shape) == 1) {
    collect_terms(g, n.in[0], sign, uses, terms, false);
    collect_terms(g, n.in[1], n.op == Op::kSub ? -sign : sign, uses, terms, false);
    return;
  }
  // c * x, x * c and -x with a scalar constant c fold into the term's coefficient.
  if ((top || uses[size_t(id)] == 1) && shape_size(n.shape) == 1) {
    if (n.op == Op::kNeg) {
      collect_terms(g, n.in[0], -sign, uses, terms, false);
      return;
    }
    if (n.op == Op::kMul && shape_size(g[size_t(n.in[0])].shape) == 1 &&
        shape_size(g[size_t(n.in[1])].shape) == 1) {
      for (int k = 0; k < 2; ++k) {
        const Node& c = g[size_t(n.in[size_t(k)])];
        if (c.op == Op::kConst) {
          collect_terms(g, n.in[size_t(1 - k)], sign * c.values[0], uses, terms, false);
          return;
        }
      }
    }
  }
  terms.push_back({id, sign});
}

}  // namespace

template <class T>
std::unique_ptr<CompiledDensity> compile(const Graph& g, Expr target,
                                         std::vector<std::pair<std::string, Expr>> outputs,
                                         CompileOptions opts) {
  if (!target.valid() || target.graph() != &g) fail("the target is not an expression of this graph");
  if (target.size() != 1) fail("the target must be a scalar, got shape " + shape_str(target.shape()));
  std::vector<int> roots = {target.id()};
  std::vector<VarInfo> default_vars;
  for (auto& [name, e] : outputs) {
    if (!e.valid() || e.graph() != &g) fail("output '" + name + "' is not an expression of this graph");
    roots.push_back(e.id());
    default_vars.push_back(VarInfo{name, e.shape()});
  }
  std::vector<VarInfo> vars = opts.output_vars.empty() ? default_vars : opts.output_vars;
  if (!outputs.empty() && total_size(vars) != total_size(default_vars))
    fail("output_vars hold " + std::to_string(total_size(vars)) + " values but the outputs have " +
         std::to_string(total_size(default_vars)));
  const size_t dim = opts.dim ? opts.dim : g.num_params();
  if (!opts.unconstrained_names.empty() && opts.unconstrained_names.size() != dim)
    fail("unconstrained_names has " + std::to_string(opts.unconstrained_names.size()) +
         " entries but the density has dimension " + std::to_string(dim));
  if (dim < g.num_params())
    fail("dim " + std::to_string(dim) + " is smaller than the parameters used (" +
         std::to_string(g.num_params()) + ")");

  Nodes nodes;
  nodes.reserve(g.size());
  for (size_t i = 0; i < g.size(); ++i) nodes.push_back(g.node(int(i)));
  nodes = keep_reachable(nodes, roots);
  if (opts.fold_constants) fold_constants(nodes);
  if (opts.fold_constants) simplify(nodes, roots);
  if (opts.cse) nodes = cse(nodes, roots);
  nodes = keep_reachable(nodes, roots);

  std::vector<int> uses(nodes.size(), 0);
  for (const Node& n : nodes) for (int j : n.in) ++uses[size_t(j)];
  for (size_t r = 1; r < roots.size(); ++r) ++uses[size_t(roots[r])];
  std::vector<std::pair<int, double>> terms;
  collect_terms(nodes, roots[0], 1.0, uses, terms, true);
  std::vector<int> outs(roots.begin() + 1, roots.end());
  return std::make_unique<Compiled<T>>(std::move(nodes), std::move(terms), std::move(outs),
                                       outputs.empty() ? opts.output_vars : std::move(vars), dim,
                                       std::move(opts.unconstrain),
                                       std::move(opts.unconstrained_names), opts.backend);
}

bool jit_available() { return detail::jit_available(); }

template std::unique_ptr<CompiledDensity> compile<double>(
    const Graph&, Expr, std::vector<std::pair<std::string, Expr>>, CompileOptions);
template std::unique_ptr<CompiledDensity> compile<float>(
    const Graph&, Expr, std::vector<std::pair<std::string, Expr>>, CompileOptions);

}  // namespace exmc::graph
