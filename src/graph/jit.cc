// LLVM code generation for a planned gradient program (see jit.hpp).
#include "jit.hpp"

#include "exmc/dist/kernel.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>

namespace exmc::graph::detail {
namespace {

// ------------------------------------------------------------ functions the code calls

// Unary functions and derivatives not worth emitting inline (lgamma, erf, ...).
template <class T>
T call_unary_f(int op, T a) {
  return unary_f(static_cast<Op>(op), a);
}
template <class T>
T call_unary_d(int op, T a, T out) {
  return unary_d(static_cast<Op>(op), a, out);
}

bool inline_unary(Op op) { return op >= Op::kNeg && op <= Op::kInvPhi; }
bool inline_binary(Op op) {
  return op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kDiv || op == Op::kFmin ||
         op == Op::kFmax;
}

using namespace llvm;

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // log sqrt(2 pi)
constexpr double kLogPi = 1.14472988584940017414;

// An element index: a constant (unrolled code) or a loop variable.
struct Idx {
  Value* v = nullptr;
  uint64_t c = 0;
  bool is_const() const { return v == nullptr; }
};

template <class T>
class Emitter {
 public:
  Emitter(const JitPlan<T>& plan, const JitHost& host, LLVMContext& ctx, Module& mod)
      : P_(plan), H_(host), C_(ctx), M_(mod), B_(ctx) {
    Tt_ = std::is_same_v<T, double> ? B_.getDoubleTy() : B_.getFloatTy();
    Dt_ = B_.getDoubleTy();
    I64_ = B_.getInt64Ty();
    Ptr_ = B_.getInt8PtrTy();
  }

  size_t inlined = 0, called = 0;
  bool self_contained = false;

  Function* emit() {
    auto* fty = FunctionType::get(Dt_, {PointerType::getUnqual(Dt_), PointerType::getUnqual(Dt_),
                                        PointerType::getUnqual(Tt_), Ptr_},
                                  false);
    F_ = Function::Create(fty, Function::ExternalLinkage, "exmc_grad", M_);
    F_->addFnAttr(Attribute::NoUnwind);
    F_->addParamAttr(0, Attribute::NoAlias);
    F_->addParamAttr(1, Attribute::NoAlias);
    x_ = F_->getArg(0);
    g_ = F_->getArg(1);
    arena_ = F_->getArg(2);
    ex_ = F_->getArg(3);
    B_.SetInsertPoint(BasicBlock::Create(C_, "entry", F_));

    const size_t N = P_.ins.size();
    params_direct_ = true;
    for (const JitIns<T>& J : P_.ins) params_direct_ = params_direct_ && inlinable(J);
    // Code that calls no kernel keeps its buffers on its own stack: the optimiser then holds
    // small models in registers and drops every store nobody reads.
    if (params_direct_ && P_.arena * sizeof(T) <= kStackArenaBytes) {
      arena_ = B_.CreateAlloca(Tt_, cidx(std::max<size_t>(P_.arena, 1)));
      self_contained = true;
    }
    // Parameters into their block (unless read from x); their adjoints zeroed.
    loop(P_.dim, {}, [&](Idx k, std::vector<Value*>&) {
      if (!params_direct_) store(P_.pblock, k, to_t(B_.CreateLoad(Dt_, gep(Dt_, x_, k))));
      if (params_direct_) B_.CreateStore(cd(0), gep(Dt_, g_, k));
      else store(P_.ablock, k, zero_t());
    });
    lp_.assign(N, nullptr);
    find_run_only();
    find_log_scaled();
    for (size_t i = 0; i < N; ++i) {
      for (int a : P_.ins[i].zero_fwd) zero_adjoint(size_t(a));
      forward(i);
    }
    Value* total = ConstantFP::get(Dt_, P_.const_total);
    for (const auto& t : P_.terms) {
      Value* v = t.ins >= 0 ? lp_[size_t(t.ins)] : to_d(load(t.value, Idx{}));
      total = B_.CreateFAdd(total, B_.CreateFMul(ConstantFP::get(Dt_, t.sign), v));
    }
    for (size_t off : P_.seed_zero) store(off, Idx{}, zero_t());
    for (auto [off, sign] : P_.seeds) add_to(off, Idx{}, ConstantFP::get(Tt_, sign));
    for (size_t i = N; i-- > 0;) {
      for (int a : P_.ins[i].zero_bwd) zero_adjoint(size_t(a));
      if (P_.ins[i].ins->has_adj) backward(i);
    }
    if (!params_direct_)
      loop(P_.dim, {}, [&](Idx k, std::vector<Value*>&) {
        B_.CreateStore(to_d(load_at(P_.ablock, k)), gep(Dt_, g_, k));
      });
    B_.CreateRet(total);
    // The interpreter's kernels reach the arena through the workspace's pointers: only code
    // that calls none may promise the optimiser that the arena is reached through its
    // argument alone.
    if (called == 0) F_->addParamAttr(2, Attribute::NoAlias);
    return F_;
  }

 private:
  // ---------------------------------------------------------------- helpers
  Value* cidx(uint64_t c) { return ConstantInt::get(I64_, c); }
  Value* index(Idx i) { return i.is_const() ? cidx(i.c) : i.v; }
  Value* offset(size_t base, Idx i) {
    return i.is_const() ? cidx(base + i.c) : B_.CreateAdd(cidx(base), i.v);
  }
  Value* gep(Type* t, Value* p, Idx i) { return B_.CreateInBoundsGEP(t, p, index(i)); }
  Value* arena_ptr(size_t off, Idx i) { return B_.CreateInBoundsGEP(Tt_, arena_, offset(off, i)); }
  Value* load_at(size_t off, Idx i) { return B_.CreateLoad(Tt_, arena_ptr(off, i)); }
  void store(size_t off, Idx i, Value* v) { B_.CreateStore(v, arena_ptr(off, i)); }
  void add_to(size_t off, Idx i, Value* v) {
    if (params_direct_ && off >= P_.ablock && off < P_.ablock + P_.dim) {
      const size_t base = off - P_.ablock;
      Value* p = gep(Dt_, g_, i.is_const() ? Idx{nullptr, base + i.c} : Idx{B_.CreateAdd(cidx(base), i.v), 0});
      B_.CreateStore(adj_add(B_.CreateLoad(Dt_, p), to_d(v)), p);
      return;
    }
    Value* p = arena_ptr(off, i);
    B_.CreateStore(adj_add(B_.CreateLoad(Tt_, p), v), p);
  }
  // An adjoint update: the sign of a zero gradient means nothing, so 0 + (-v) may become -v
  // and the negation fold into a multiply.
  Value* adj_add(Value* a, Value* b) {
    Value* v = B_.CreateFAdd(a, b);
    if (auto* in = dyn_cast<Instruction>(v)) in->setHasNoSignedZeros(true);
    return v;
  }
  Value* const_ptr(const void* p, Type* elem) {
    return B_.CreateIntToPtr(ConstantInt::get(I64_, reinterpret_cast<uint64_t>(p)),
                             PointerType::getUnqual(elem));
  }
  // Element i of an operand; a size-1 operand broadcasts.
  Value* load(const JitOperand<T>& a, Idx i) {
    if (a.n == 1) i = Idx{};
    if (a.data) {
      if (i.is_const()) return ConstantFP::get(Tt_, double(a.data[i.c]));
      return B_.CreateLoad(Tt_, gep(Tt_, const_ptr(a.data, Tt_), i));
    }
    if (params_direct_ && a.off >= P_.pblock && a.off < P_.pblock + P_.dim) {
      const size_t base = a.off - P_.pblock;
      Idx j = i.is_const() ? Idx{nullptr, base + i.c} : Idx{B_.CreateAdd(cidx(base), i.v), 0};
      return to_t(B_.CreateLoad(Dt_, gep(Dt_, x_, j)));
    }
    return load_at(a.off, i);
  }
  // a + b for a running sum: may be reassociated, so the optimiser vectorises long sums and
  // splits short unrolled ones into independent chains (the interpreter's kernels use four
  // accumulators for the same reason; either order is deterministic from call to call).
  Value* sum_add(Value* a, Value* b) {
    Value* v = B_.CreateFAdd(a, b);
    if (auto* in = dyn_cast<Instruction>(v)) {
      in->setHasAllowReassoc(true);
      in->setHasNoSignedZeros(true);
    }
    return v;
  }
  Value* zero_t() { return ConstantFP::get(Tt_, 0.0); }
  Value* ct(double v) { return ConstantFP::get(Tt_, v); }
  Value* cd(double v) { return ConstantFP::get(Dt_, v); }
  Value* to_d(Value* v) { return std::is_same_v<T, double> ? v : B_.CreateFPExt(v, Dt_); }
  Value* to_t(Value* v) { return std::is_same_v<T, double> ? v : B_.CreateFPTrunc(v, Tt_); }
  void zero(size_t off, size_t n) {
    if (n <= 8) {
      for (size_t k = 0; k < n; ++k) store(off, Idx{nullptr, k}, zero_t());
      return;
    }
    B_.CreateMemSet(arena_ptr(off, Idx{}), B_.getInt8(0), n * sizeof(T), MaybeAlign(sizeof(T)));
  }
  Value* intrinsic(Intrinsic::ID id, std::vector<Value*> args) {
    Function* f = Intrinsic::getDeclaration(&M_, id, {args[0]->getType()});
    return B_.CreateCall(f, args);
  }
  // A call of a C++ function by address, marked as reading and writing no memory.
  Value* call_pure(void* fn, Type* ret, std::vector<Type*> types, std::vector<Value*> args) {
    auto* fty = FunctionType::get(ret, types, false);
    CallInst* c = B_.CreateCall(fty, const_ptr(fn, fty), args);
    c->addFnAttr(Attribute::ReadNone);
    c->addFnAttr(Attribute::NoUnwind);
    c->addFnAttr(Attribute::WillReturn);
    return c;
  }
  // adj * d, with a zero partial passing nothing (exec.hpp's chain, for the same reason).
  Value* chain(Value* adj, Value* d) {
    if (auto* c = dyn_cast<ConstantFP>(d)) return c->isZero() ? zero_t() : B_.CreateFMul(adj, d);
    return B_.CreateSelect(B_.CreateFCmpOEQ(d, zero_t()), zero_t(), B_.CreateFMul(adj, d));
  }
  Value* isfinite(Value* v) {
    // |v| < inf is false for inf and NaN.
    return B_.CreateFCmpOLT(intrinsic(Intrinsic::fabs, {v}),
                            ConstantFP::getInfinity(v->getType()));
  }

  Value* to_same(Value* d, Value* like) {
    return like->getType() == Dt_ ? d : B_.CreateFPTrunc(d, like->getType());
  }

  // exp in double. Inside loops it is emitted inline rather than called, so that they
  // vectorise (sv: 100 exps per gradient, 1.2x faster). x = (64 m + j) ln2/64 + r with
  // |r| <= ln2/128 (Cody-Waite: the k ln2_hi/64 product is exact), e^r by its Taylor series to
  // r^5 (the remainder is about 3e-17 relative) evaluated in two short chains, times 2^(j/64) from a
  // table, times 2^m as two powers of two so that results below 2^-1022 round once to a
  // subnormal and those beyond 709.78 overflow to inf. Within 2 ulp of libm's exp
  // (jit_backend_test checks it over the whole range).
  Value* exp_d(Value* x) {
    // Straight-line code calls libm: one exp there is latency, and libm's is shorter.
    if (loop_depth_ == 0) return intrinsic(Intrinsic::exp, {x});
    static const std::array<double, 64> table = [] {
      std::array<double, 64> t{};
      for (int j = 0; j < 64; ++j) t[size_t(j)] = std::exp2(double(j) / 64.0);
      return t;
    }();
    Value* xc = intrinsic(Intrinsic::minnum, {intrinsic(Intrinsic::maxnum, {x, cd(-746.0)}), cd(710.0)});
    Value* kf = intrinsic(Intrinsic::rint, {B_.CreateFMul(xc, cd(64.0 * 1.4426950408889634074))});
    Value* r = B_.CreateFSub(B_.CreateFSub(xc, B_.CreateFMul(kf, cd(6.93147180369123816490e-01 / 64.0))),
                             B_.CreateFMul(kf, cd(1.90821492927058770002e-10 / 64.0)));
    Value* r2 = B_.CreateFMul(r, r);
    // 1 + r + r^2 (1/2 + r/6) + r^4 (1/24 + r/120)
    Value* a = B_.CreateFAdd(cd(1.0), r);
    Value* b = B_.CreateFAdd(cd(0.5), B_.CreateFMul(r, cd(1.0 / 6.0)));
    Value* c = B_.CreateFAdd(cd(1.0 / 24.0), B_.CreateFMul(r, cd(1.0 / 120.0)));
    Value* p = B_.CreateFAdd(a, B_.CreateFMul(r2, B_.CreateFAdd(b, B_.CreateFMul(r2, c))));
    Value* k = B_.CreateFPToSI(kf, I64_);
    Value* j = B_.CreateAnd(k, cidx(63));
    Value* m = B_.CreateAShr(k, 6);
    Value* tj = B_.CreateLoad(Dt_, B_.CreateInBoundsGEP(Dt_, const_ptr(table.data(), Dt_), j));
    Value* m1 = B_.CreateAShr(m, 1);
    Value* m2 = B_.CreateSub(m, m1);
    auto pow2 = [&](Value* e) {
      return B_.CreateBitCast(B_.CreateShl(B_.CreateAdd(e, cidx(1023)), 52), Dt_);
    };
    Value* res = B_.CreateFMul(B_.CreateFMul(B_.CreateFMul(tj, p), pow2(m1)), pow2(m2));
    return B_.CreateSelect(B_.CreateFCmpUNO(x, x), x, res);  // NaN stays NaN
  }

  // Runs body(i, accs) for i in [0, n): unrolled for short lengths, else a loop whose
  // loop-carried values are accs. Bodies are straight-line (selects, no branches).
  std::vector<Value*> loop(uint64_t n, std::vector<Value*> accs,
                           const std::function<void(Idx, std::vector<Value*>&)>& body,
                           bool force_loop = false) {
    if (n == 0) return accs;
    if (n <= kUnroll && !force_loop) {
      for (uint64_t i = 0; i < n; ++i) body(Idx{nullptr, i}, accs);
      return accs;
    }
    return loop_dyn(cidx(n), std::move(accs), body);
  }
  // The same with a trip count known only at run time (at least one).
  std::vector<Value*> loop_dyn(Value* n, std::vector<Value*> accs,
                               const std::function<void(Idx, std::vector<Value*>&)>& body) {
    BasicBlock* pre = B_.GetInsertBlock();
    BasicBlock* head = BasicBlock::Create(C_, "loop", F_);
    BasicBlock* exit = BasicBlock::Create(C_, "done", F_);
    B_.CreateBr(head);
    B_.SetInsertPoint(head);
    PHINode* iv = B_.CreatePHI(I64_, 2);
    iv->addIncoming(cidx(0), pre);
    std::vector<PHINode*> phis;
    std::vector<Value*> cur;
    for (Value* a : accs) {
      PHINode* p = B_.CreatePHI(a->getType(), 2);
      p->addIncoming(a, pre);
      phis.push_back(p);
      cur.push_back(p);
    }
    ++loop_depth_;
    body(Idx{iv, 0}, cur);
    --loop_depth_;
    Value* next = B_.CreateAdd(iv, cidx(1));
    BasicBlock* latch = B_.GetInsertBlock();
    iv->addIncoming(next, latch);
    for (size_t k = 0; k < phis.size(); ++k) phis[k]->addIncoming(cur[k], latch);
    B_.CreateCondBr(B_.CreateICmpULT(next, n), head, exit);
    B_.SetInsertPoint(exit);
    return cur;
  }
  static constexpr uint64_t kUnroll = 16;
  static constexpr size_t kStackArenaBytes = 64 * 1024;

  // log of element i of an operand, reusing the log that built it: log(exp(u)) = u, and the
  // log of a gathered exp is the gathered u (hierarchical scales are written this way).
  Value* log_of(const JitOperand<T>& a, Idx i) {
    if (a.producer >= 0) {
      const JitIns<T>& p = P_.ins[size_t(a.producer)];
      if (p.ins->op == Op::kExp) return to_d(load(p.in[0], i));
      if (p.ins->op == Op::kGather && !p.ins->idx.empty() && p.in[0].producer >= 0 &&
          P_.ins[size_t(p.in[0].producer)].ins->op == Op::kExp) {
        const JitOperand<T>& u = P_.ins[size_t(p.in[0].producer)].in[0];
        return to_d(load(u, gather_index(*p.ins, a.n == 1 ? Idx{} : i)));
      }
    }
    return intrinsic(Intrinsic::log, {to_d(load(a, i))});
  }
  Idx gather_index(const Ins& I, Idx i) {
    if (i.is_const()) return Idx{nullptr, uint64_t(I.idx[i.c])};
    Value* p = gep(B_.getInt32Ty(), const_ptr(I.idx.data(), B_.getInt32Ty()), i);
    return Idx{B_.CreateSExt(B_.CreateLoad(B_.getInt32Ty(), p), I64_), 0};
  }

  Value* exec_ptr(size_t i) {
    return B_.CreateInBoundsGEP(B_.getInt8Ty(), ex_, cidx(i * sizeof(Exec<T>)));
  }
  Value* call_kernel_forward(size_t i) {
    void* fn = std::is_same_v<T, double> ? reinterpret_cast<void*>(H_.forward64)
                                         : reinterpret_cast<void*>(H_.forward32);
    return B_.CreateCall(FunctionType::get(Dt_, {Ptr_, Ptr_, PointerType::getUnqual(Dt_)}, false),
                         const_ptr(reinterpret_cast<void*>(fn),
                                   FunctionType::get(Dt_, {Ptr_, Ptr_, PointerType::getUnqual(Dt_)}, false)),
                         {const_ptr(P_.ins[i].ins, B_.getInt8Ty()), exec_ptr(i), x_});
  }
  void call_kernel_backward(size_t i) {
    void* fn = std::is_same_v<T, double> ? reinterpret_cast<void*>(H_.backward64)
                                         : reinterpret_cast<void*>(H_.backward32);
    auto* fty = FunctionType::get(B_.getVoidTy(), {Ptr_, Ptr_, PointerType::getUnqual(Dt_)}, false);
    B_.CreateCall(fty, const_ptr(reinterpret_cast<void*>(fn), fty),
                  {const_ptr(P_.ins[i].ins, B_.getInt8Ty()), exec_ptr(i), g_});
  }

  // ---------------------------------------------------------------- unary and binary math
  Value* unary_value(Op op, Value* a) {
    switch (op) {
      case Op::kNeg: return B_.CreateFNeg(a);
      case Op::kAbs: return intrinsic(Intrinsic::fabs, {a});
      case Op::kSqrt: return intrinsic(Intrinsic::sqrt, {a});
      case Op::kSquare: return B_.CreateFMul(a, a);
      case Op::kExp: return to_same(exp_d(to_d(a)), a);
      case Op::kLog: return intrinsic(Intrinsic::log, {a});
      default:
        return call_pure(reinterpret_cast<void*>(&call_unary_f<T>), Tt_, {B_.getInt32Ty(), Tt_},
                         {B_.getInt32(int(op)), a});
    }
  }
  Value* unary_deriv(Op op, Value* a, Value* out) {
    switch (op) {
      case Op::kNeg: return ct(-1);
      case Op::kAbs:
        return B_.CreateSelect(B_.CreateFCmpOGT(a, zero_t()), ct(1),
                               B_.CreateSelect(B_.CreateFCmpOLT(a, zero_t()), ct(-1), zero_t()));
      case Op::kSqrt: return B_.CreateFDiv(ct(0.5), out);
      case Op::kSquare: return B_.CreateFMul(ct(2), a);
      case Op::kExp: return out;
      case Op::kLog: return B_.CreateFDiv(ct(1), a);
      default:
        return call_pure(reinterpret_cast<void*>(&call_unary_d<T>), Tt_,
                         {B_.getInt32Ty(), Tt_, Tt_}, {B_.getInt32(int(op)), a, out});
    }
  }
  Value* binary_value(Op op, Value* u, Value* v) {
    switch (op) {
      case Op::kAdd: return B_.CreateFAdd(u, v);
      case Op::kSub: return B_.CreateFSub(u, v);
      case Op::kMul: return B_.CreateFMul(u, v);
      case Op::kDiv: return B_.CreateFDiv(u, v);
      case Op::kFmin: return intrinsic(Intrinsic::minnum, {u, v});
      default: return intrinsic(Intrinsic::maxnum, {u, v});
    }
  }
  // Partials of a binary op with respect to its first (k = 0) or second argument.
  Value* binary_deriv(Op op, int k, Value* u, Value* v, Value* out) {
    switch (op) {
      case Op::kAdd: return ct(1);
      case Op::kSub: return ct(k == 0 ? 1 : -1);
      case Op::kMul: return k == 0 ? v : u;
      case Op::kDiv: return k == 0 ? B_.CreateFDiv(ct(1), v) : B_.CreateFNeg(B_.CreateFDiv(out, v));
      default: {
        // The first argument is chosen when it wins the comparison or the other is NaN.
        Value* first = B_.CreateOr(op == Op::kFmin ? B_.CreateFCmpOLE(u, v) : B_.CreateFCmpOGE(u, v),
                                   B_.CreateFCmpUNO(v, v));
        return k == 0 ? B_.CreateSelect(first, ct(1), zero_t()) : B_.CreateSelect(first, zero_t(), ct(1));
      }
    }
  }

  // Gathers over runs whose every reader is a grouped normal (emit_normal_grouped): those
  // read the gather's source, not its output, and leave each run's partials on the run's
  // first adjoint element. Such a gather computes nothing forward, zeroes and reads back only
  // those elements: for hier_big, 3 passes over 1000 elements saved.
  void find_run_only() {
    const size_t N = P_.ins.size();
    run_only_.assign(N, 0);
    std::vector<char> read(N, 0);
    for (size_t i = 0; i < N; ++i) {
      const JitIns<T>& J = P_.ins[i];
      if (J.ins->op == Op::kGather && !J.ins->runs.empty() && J.ins->runs.size() / 3 <= kMaxRunBlocks)
        run_only_[i] = 1;
    }
    for (size_t j = 0; j < N; ++j) {
      const JitIns<T>& J = P_.ins[j];
      const bool grouped = J.ins->op == Op::kDistLpdf && family(J, *J.ins) == Family::kNormal &&
                           grouped_runs(J) != nullptr;
      for (size_t k = 0; k < J.in.size(); ++k) {
        const int p = J.in[k].producer;
        if (p < 0) continue;
        read[size_t(p)] = 1;
        if (!(grouped && k >= 1)) run_only_[size_t(p)] = 0;
      }
    }
    for (const auto& t : P_.terms)
      if (t.value.producer >= 0) run_only_[size_t(t.value.producer)] = 0;
    for (size_t i = 0; i < N; ++i) {
      if (!read[i]) run_only_[i] = 0;
    }
  }
  // exp(u) instructions read only as the one sigma of normal densities: those work on the log
  // scale (1/sigma^2 = exp(-2u), log sigma = u, partials with respect to u), so the exp itself
  // is never computed and its reverse step passes the adjoint through. Neal's funnel is
  // x ~ normal(0, exp(y/2)): one exp(-y), as one would write it by hand.
  void find_log_scaled() {
    const size_t N = P_.ins.size();
    log_scaled_.assign(N, 0);
    std::vector<char> read(N, 0);
    for (size_t i = 0; i < N; ++i) log_scaled_[i] = P_.ins[i].ins->op == Op::kExp && P_.ins[i].ins->n == 1;
    for (size_t j = 0; j < N; ++j) {
      const JitIns<T>& J = P_.ins[j];
      const bool normal = J.ins->op == Op::kDistLpdf && family(J, *J.ins) == Family::kNormal &&
                          grouped_runs(J) == nullptr;
      for (size_t k = 0; k < J.in.size(); ++k) {
        const int p = J.in[k].producer;
        if (p < 0) continue;
        read[size_t(p)] = 1;
        if (!(normal && k == 2)) log_scaled_[size_t(p)] = 0;
      }
    }
    for (const auto& t : P_.terms)
      if (t.value.producer >= 0) log_scaled_[size_t(t.value.producer)] = 0;
    for (size_t i = 0; i < N; ++i)
      if (!read[i]) log_scaled_[i] = 0;
  }
  bool log_scaled(const JitOperand<T>& a) const { return a.producer >= 0 && log_scaled_[size_t(a.producer)]; }

  // Zeroes instruction a's adjoint (a run-only gather's holds values at run starts only).
  void zero_adjoint(size_t a) {
    const JitIns<T>& J = P_.ins[a];
    if (!run_only_[a]) return zero(J.adj, J.ins->n);
    const auto& runs = J.ins->runs;
    for (size_t r = 0; r < runs.size(); r += 3) store(J.adj, Idx{nullptr, runs[r + 1]}, zero_t());
  }

  // ---------------------------------------------------------------- forward / backward
  void forward(size_t i) {
    const JitIns<T>& J = P_.ins[i];
    if (run_only_[i] || log_scaled_[i]) {
      ++inlined;
      return;
    }
    if (inlinable(J)) {
      if (!emit_forward(i, J, *J.ins)) throw std::logic_error("exmc jit: inlinable but not emitted");
      ++inlined;
      return;
    }
    ++called;
    lp_[i] = call_kernel_forward(i);
  }
  void backward(size_t i) {
    const JitIns<T>& J = P_.ins[i];
    if (run_only_[i]) {
      if (J.in_adj[0] == kNoOffset) return;
      const auto& runs = J.ins->runs;
      for (size_t r = 0; r < runs.size(); r += 3)
        add_to(J.in_adj[0], Idx{nullptr, runs[r]}, load_at(J.adj, Idx{nullptr, runs[r + 1]}));
      return;
    }
    if (log_scaled_[i]) {  // its readers gave partials with respect to u
      if (J.in_adj[0] != kNoOffset) add_to(J.in_adj[0], Idx{}, load_at(J.adj, Idx{}));
      return;
    }
    if (inlinable(J)) emit_backward(J, *J.ins);
    else call_kernel_backward(i);
  }

  bool emit_forward(size_t i, const JitIns<T>& J, const Ins& I) {
    const Op op = I.op;
    if (inline_unary(op)) {
      loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
        store(J.out, k, unary_value(op, load(J.in[0], k)));
      });
      return true;
    }
    if (inline_binary(op)) {
      if (op == Op::kDiv && I.mode == 2 && I.n > 1) {  // one division, then multiplies
        Value* r = B_.CreateFDiv(ct(1), load(J.in[1], Idx{}));
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
          store(J.out, k, B_.CreateFMul(load(J.in[0], k), r));
        });
        return true;
      }
      loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
        store(J.out, k, binary_value(op, load(J.in[0], k), load(J.in[1], k)));
      });
      return true;
    }
    switch (op) {
      case Op::kSum: case Op::kMean: case Op::kDotSelf: case Op::kDot: {
        auto s = loop(I.in_size[0], {cd(0)}, [&](Idx k, std::vector<Value*>& acc) {
          Value* a = to_d(load(J.in[0], k));
          Value* t = op == Op::kDot ? B_.CreateFMul(a, to_d(load(J.in[1], k)))
                                    : (op == Op::kDotSelf ? B_.CreateFMul(a, a) : a);
          acc[0] = sum_add(acc[0], t);
        });
        Value* v = s[0];
        if (op == Op::kMean) v = B_.CreateFDiv(v, cd(double(I.in_size[0])));
        store(J.out, Idx{}, to_t(v));
        return true;
      }
      case Op::kSlice:
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
          store(J.out, k, load(J.in[0], k.is_const() ? Idx{nullptr, k.c + I.offset}
                                                     : Idx{B_.CreateAdd(k.v, cidx(I.offset)), 0}));
        });
        return true;
      case Op::kGather:
        if (I.idx.empty()) return false;
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
          store(J.out, k, load(J.in[0], gather_index(I, k)));
        });
        return true;
      case Op::kBroadcast: case Op::kReshape:
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) { store(J.out, k, load(J.in[0], k)); });
        return true;
      case Op::kDistLpdf:
        return emit_dist(i, J, I);
      default:
        return false;
    }
  }

  void emit_backward(const JitIns<T>& J, const Ins& I) {
    const Op op = I.op;
    if (inline_unary(op)) {
      if (J.in_adj[0] == kNoOffset) return;
      loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
        Value* out = load_at(J.out, k);
        add_to(J.in_adj[0], k, chain(load_at(J.adj, k), unary_deriv(op, load(J.in[0], k), out)));
      });
      return;
    }
    if (inline_binary(op)) {
      for (int side = 0; side < 2; ++side) {
        if (J.in_adj[size_t(side)] == kNoOffset) continue;
        const bool reduce = J.in[size_t(side)].n == 1 && I.n > 1;  // a broadcast scalar gets the sum
        auto s = loop(I.n, {zero_t()}, [&](Idx k, std::vector<Value*>& acc) {
          Value* u = load(J.in[0], k);
          Value* v = load(J.in[1], k);
          Value* out = (op == Op::kDiv && side == 1) ? load_at(J.out, k) : nullptr;
          Value* t = chain(load_at(J.adj, k), binary_deriv(op, side, u, v, out));
          if (reduce) acc[0] = sum_add(acc[0], t);
          else add_to(J.in_adj[size_t(side)], k, t);
        });
        if (reduce) add_to(J.in_adj[size_t(side)], Idx{}, s[0]);
      }
      return;
    }
    switch (op) {
      case Op::kSum: case Op::kMean: case Op::kDotSelf: case Op::kDot: {
        Value* d = load_at(J.adj, Idx{});
        if (op == Op::kMean) d = B_.CreateFDiv(d, ct(double(I.in_size[0])));
        if (op == Op::kDotSelf) d = B_.CreateFMul(ct(2), d);
        for (int side = 0; side < (op == Op::kDot ? 2 : 1); ++side) {
          if (J.in_adj[size_t(side)] == kNoOffset) continue;
          loop(I.in_size[0], {}, [&](Idx k, std::vector<Value*>&) {
            Value* t = d;
            if (op == Op::kDotSelf) t = B_.CreateFMul(d, load(J.in[0], k));
            if (op == Op::kDot) t = B_.CreateFMul(d, load(J.in[size_t(1 - side)], k));
            add_to(J.in_adj[size_t(side)], k, t);
          });
        }
        return;
      }
      case Op::kSlice:
        if (J.in_adj[0] == kNoOffset) return;
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
          add_to(J.in_adj[0] + I.offset, k, load_at(J.adj, k));
        });
        return;
      case Op::kGather:
        if (J.in_adj[0] == kNoOffset) return;
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) {
          add_to(J.in_adj[0], gather_index(I, k), load_at(J.adj, k));
        });
        return;
      case Op::kReshape:
        if (J.in_adj[0] == kNoOffset) return;
        loop(I.n, {}, [&](Idx k, std::vector<Value*>&) { add_to(J.in_adj[0], k, load_at(J.adj, k)); });
        return;
      case Op::kBroadcast: {
        if (J.in_adj[0] == kNoOffset) return;
        auto s = loop(I.n, {zero_t()}, [&](Idx k, std::vector<Value*>& acc) {
          acc[0] = sum_add(acc[0], load_at(J.adj, k));
        });
        add_to(J.in_adj[0], Idx{}, s[0]);
        return;
      }
      default:
        return;  // densities emitted inline are direct: their partials went in forward
    }
  }

  // ---------------------------------------------------------------- densities
  // A partial for input k at element i: added in place (vector) or summed (broadcast scalar).
  struct Partial {
    size_t adj = kNoOffset;
    bool scalar = false;
    int acc = -1;  // index of its running sum among the loop's accumulators
  };

  enum class Family { kNone, kNormal, kStdNormal, kExponential, kStudentT };
  Family family(const JitIns<T>& J, const Ins& I) const {
    if (!J.direct || !I.dist) return Family::kNone;
    // The registry's own entries only: copies under the same name may carry another kernel
    // (the Stan front end's log cdfs as densities).
    const dist::DistInfo *normal = H_.normal, *std_normal = H_.std_normal,
                         *exponential = H_.exponential, *student_t = H_.student_t;
    const uint32_t n = I.in_size[0];
    if (n == 0) return Family::kNone;
    for (uint32_t s : I.in_size)
      if (s != 1 && s != n) return Family::kNone;
    if (I.dist == normal && I.in_size.size() == 3) return Family::kNormal;
    if (I.dist == std_normal && I.in_size.size() == 1) return Family::kStdNormal;
    if (I.dist == exponential && I.in_size.size() == 2) return Family::kExponential;
    if (I.dist == student_t && I.in_size.size() == 4 && I.in_size[1] == 1) return Family::kStudentT;
    return Family::kNone;
  }
  bool emit_dist(size_t i, const JitIns<T>& J, const Ins& I) {
    const uint32_t n = I.in_size[0];
    switch (family(J, I)) {
      case Family::kNormal:
        lp_[i] = grouped_runs(J) ? emit_normal_grouped(J, I) : emit_normal(J, I, n);
        return true;
      case Family::kStdNormal: lp_[i] = emit_std_normal(J, I, n); return true;
      case Family::kExponential: lp_[i] = emit_exponential(J, I, n); return true;
      case Family::kStudentT: lp_[i] = emit_student_t(J, I, n); return true;
      default: return false;
    }
  }

  // Whether emit_forward emits instruction J inline (else the interpreter's kernel is called).
  bool inlinable(const JitIns<T>& J) const {
    const Ins& I = *J.ins;
    if (inline_unary(I.op) || inline_binary(I.op)) return true;
    switch (I.op) {
      case Op::kSum: case Op::kMean: case Op::kDotSelf: case Op::kDot: case Op::kSlice:
      case Op::kBroadcast: case Op::kReshape:
        return true;
      case Op::kGather: return !I.idx.empty();
      case Op::kDistLpdf: return family(J, I) != Family::kNone;
      default: return false;
    }
  }

  // Registers the partial of input k; scalars get a double accumulator in accs.
  Partial partial(const JitIns<T>& J, size_t k, std::vector<Value*>& accs) {
    Partial p;
    p.adj = J.in_adj[k];
    p.scalar = J.in[k].n == 1;
    if (p.adj != kNoOffset && p.scalar) {
      p.acc = int(accs.size());
      accs.push_back(cd(0));
    }
    return p;
  }
  void give(const Partial& p, Idx i, Value* d, std::vector<Value*>& accs) {
    if (p.adj == kNoOffset) return;
    if (p.scalar) accs[size_t(p.acc)] = sum_add(accs[size_t(p.acc)], d);
    else add_to(p.adj, i, to_t(d));
  }
  void finish(const Partial& p, const std::vector<Value*>& accs) {
    if (p.adj != kNoOffset && p.scalar) add_to(p.adj, Idx{}, to_t(accs[size_t(p.acc)]));
  }
  Value* positive(Value* v) {  // 0 < v < inf (false for NaN)
    return B_.CreateAnd(B_.CreateFCmpOGT(v, cd(0)), B_.CreateFCmpOLT(v, ConstantFP::getInfinity(Dt_)));
  }
  Value* non_negative(Value* v) {
    return B_.CreateAnd(B_.CreateFCmpOGE(v, cd(0)), B_.CreateFCmpOLT(v, ConstantFP::getInfinity(Dt_)));
  }

  // The gather behind operand a when it is one over sorted indices (runs), else nullptr.
  const JitIns<T>* run_gather(const JitOperand<T>& a) const {
    if (a.producer < 0) return nullptr;
    const JitIns<T>& p = P_.ins[size_t(a.producer)];
    return (p.ins->op == Op::kGather && !p.ins->runs.empty()) ? &p : nullptr;
  }
  // The runs shared by normal(y | mu, sigma) whose mu and sigma are each one value or a
  // gather over the same sorted group index (hierarchical models: y ~ normal(theta[g],
  // sigma[g])), or nullptr. Few enough runs to emit each as its own block.
  const std::vector<uint32_t>* grouped_runs(const JitIns<T>& J) const {
    const std::vector<uint32_t>* runs = nullptr;
    for (size_t k = 1; k < 3; ++k) {
      if (J.in[k].n == 1) continue;
      const JitIns<T>* gth = run_gather(J.in[k]);
      if (!gth) return nullptr;
      if (runs && *runs != gth->ins->runs) return nullptr;
      runs = &gth->ins->runs;
    }
    return (runs && runs->size() / 3 <= kMaxRunBlocks) ? runs : nullptr;
  }
  static constexpr size_t kMaxRunBlocks = 256;

  // normal(y | mu[g], sigma[g]) over sorted groups: per run, the sums of the residuals and
  // their squares against one mu and one sigma (no per-element division or log), and the
  // run's partials placed on its first element of the gathered adjoint (the gather's reverse
  // step sums each run, so where in the run they sit does not matter).
  Value* emit_normal_grouped(const JitIns<T>& J, const Ins& I) {
    const JitOperand<T>&mu = J.in[1], &sg = J.in[2];
    const std::vector<uint32_t>& runs = *grouped_runs(J);
    const bool keep_log = !I.propto || sg.param;
    const JitIns<T>* gmu = mu.n > 1 ? run_gather(mu) : nullptr;
    const JitIns<T>* gsg = sg.n > 1 ? run_gather(sg) : nullptr;
    // lp, sum of z^2, partials of a scalar mu / sigma, valid
    std::vector<Value*> accs = {cd(0), cd(0), cd(0), cd(0), B_.getTrue()};
    const size_t n_runs = runs.size() / 3;
    if (n_runs <= kUnrolledRuns) {
      for (size_t r = 0; r < n_runs; ++r)
        grouped_run(J, I, gmu, gsg, keep_log, Idx{nullptr, runs[3 * r]}, Idx{nullptr, runs[3 * r + 1]},
                    runs[3 * r + 2], nullptr, accs);
    } else {  // one loop over a table of runs: code size and compile time independent of J
      Value* table = const_ptr(runs.data(), B_.getInt32Ty());
      accs = loop(n_runs, accs, [&](Idx r, std::vector<Value*>& acc) {
        auto field = [&](uint64_t f) {
          Value* at = B_.CreateAdd(B_.CreateMul(index(r), cidx(3)), cidx(f));
          return B_.CreateZExt(B_.CreateLoad(B_.getInt32Ty(), B_.CreateInBoundsGEP(B_.getInt32Ty(), table, at)), I64_);
        };
        grouped_run(J, I, gmu, gsg, keep_log, Idx{field(0), 0}, Idx{field(1), 0}, 0, field(2), acc);
      }, /*force_loop=*/true);
    }
    const double n = double(I.in_size[0]);
    Value* lp = accs[0];
    if (keep_log && !gsg) lp = B_.CreateFSub(lp, B_.CreateFMul(cd(n), log_of(sg, Idx{})));
    if (J.in_adj[1] != kNoOffset && !gmu) add_to(J.in_adj[1], Idx{}, to_t(accs[2]));
    if (J.in_adj[2] != kNoOffset && !gsg) add_to(J.in_adj[2], Idx{}, to_t(accs[3]));
    if (!I.propto) lp = B_.CreateFSub(lp, cd(n * kHalfLog2Pi));
    Value* valid = B_.CreateAnd(accs[4], isfinite(accs[1]));
    return B_.CreateSelect(valid, lp, ConstantFP::getInfinity(Dt_, true));
  }
  static constexpr size_t kUnrolledRuns = 4;

  // One run of emit_normal_grouped: group src, elements [start, start + len) (len a constant,
  // or the value dyn_len when that is set); accumulates into accs as described there.
  void grouped_run(const JitIns<T>& J, const Ins& I, const JitIns<T>* gmu, const JitIns<T>* gsg,
                   bool keep_log, Idx src, Idx start, uint64_t len, Value* dyn_len,
                   std::vector<Value*>& accs) {
    const JitOperand<T>&y = J.in[0], &mu = J.in[1], &sg = J.in[2];
    const size_t ay = J.in_adj[0], amu = J.in_adj[1], asg = J.in_adj[2];
    Value* m = to_d(gmu ? load(gmu->in[0], src) : load(mu, Idx{}));
    Value* s = to_d(gsg ? load(gsg->in[0], src) : load(sg, Idx{}));
    Value* inv_s = B_.CreateFDiv(cd(1), s);
    Value* inv_s2 = B_.CreateFMul(inv_s, inv_s);
    accs[4] = B_.CreateAnd(accs[4], positive(s));
    auto body = [&](Idx k, std::vector<Value*>& a) {
      Idx at = (k.is_const() && start.is_const()) ? Idx{nullptr, start.c + k.c}
                                                  : Idx{B_.CreateAdd(index(k), index(start)), 0};
      Value* res = B_.CreateFSub(to_d(load(y, at)), m);
      a[0] = sum_add(a[0], res);
      a[1] = sum_add(a[1], B_.CreateFMul(res, res));
      if (ay != kNoOffset) add_to(ay, at, to_t(B_.CreateFNeg(B_.CreateFMul(res, inv_s2))));
    };
    auto acc = dyn_len ? loop_dyn(dyn_len, {cd(0), cd(0)}, body) : loop(len, {cd(0), cd(0)}, body);
    Value* len_d = dyn_len ? B_.CreateUIToFP(dyn_len, Dt_) : cd(double(len));
    Value* sz2 = B_.CreateFMul(acc[1], inv_s2);
    accs[1] = B_.CreateFAdd(accs[1], sz2);
    accs[0] = B_.CreateFSub(accs[0], B_.CreateFMul(cd(0.5), sz2));
    if (keep_log && gsg) accs[0] = B_.CreateFSub(accs[0], B_.CreateFMul(len_d, log_of(gsg->in[0], src)));
    Value* dmu = B_.CreateFMul(acc[0], inv_s2);
    Value* dsg = B_.CreateFMul(keep_log ? B_.CreateFSub(sz2, len_d) : sz2, inv_s);
    if (amu != kNoOffset) {
      if (gmu) add_to(amu, start, to_t(dmu));
      else accs[2] = B_.CreateFAdd(accs[2], dmu);
    }
    if (asg != kNoOffset) {
      if (gsg) add_to(asg, start, to_t(dsg));
      else accs[3] = B_.CreateFAdd(accs[3], dsg);
    }
  }

  // normal(y | mu, sigma), as the interpreter's kernel: -z^2/2 - log sigma (- log sqrt(2 pi)
  // unless propto) summed, -inf when a sigma is not positive and finite or y, mu not finite.
  // With one sigma the sums run over the residuals y - mu, scaled by 1/sigma^2 once: they do
  // not wait for sigma (often an exp and a division away).
  Value* emit_normal(const JitIns<T>& J, const Ins& I, uint32_t n) {
    const JitOperand<T>&y = J.in[0], &mu = J.in[1], &sg = J.in[2];
    const bool keep_log = !I.propto || sg.param;
    const bool vec_sigma = sg.n > 1;
    std::vector<Value*> accs = {cd(0), cd(0), B_.getTrue()};  // sum z^2 (or r^2), sum log sigma, valid
    Partial py = partial(J, 0, accs), pm = partial(J, 1, accs), ps = partial(J, 2, accs);
    const bool on_log_scale = !vec_sigma && log_scaled(sg);
    Value *inv_s0 = nullptr, *inv_s2 = nullptr, *sigma_ok = nullptr;
    if (on_log_scale) {
      // sigma = exp(u) is positive and finite exactly when u lies between the logs of the
      // smallest and the largest T (to within rounding at those edges).
      Value* u = to_d(load(P_.ins[size_t(sg.producer)].in[0], Idx{}));
      inv_s2 = exp_d(B_.CreateFMul(cd(-2), u));
      sigma_ok = B_.CreateAnd(B_.CreateFCmpOGT(u, cd(std::log(double(std::numeric_limits<T>::denorm_min())))),
                              B_.CreateFCmpOLT(u, cd(std::log(double(std::numeric_limits<T>::max())))));
    } else if (!vec_sigma) {
      Value* s0 = to_d(load(sg, Idx{}));
      inv_s0 = B_.CreateFDiv(cd(1), s0);
      inv_s2 = B_.CreateFMul(inv_s0, inv_s0);
      sigma_ok = positive(s0);
    }
    Value* neg_inv_s2 = inv_s2 ? B_.CreateFNeg(inv_s2) : nullptr;
    accs = loop(n, accs, [&](Idx k, std::vector<Value*>& acc) {
      Value* r = B_.CreateFSub(to_d(load(y, k)), to_d(load(mu, k)));
      if (!vec_sigma) {
        acc[0] = sum_add(acc[0], B_.CreateFMul(r, r));
        // Scalar partials are sums of r, scaled once below; vector ones need -+r / sigma^2.
        if (py.adj != kNoOffset) give(py, k, py.scalar ? B_.CreateFNeg(r) : B_.CreateFMul(r, neg_inv_s2), acc);
        if (pm.adj != kNoOffset) give(pm, k, pm.scalar ? r : B_.CreateFMul(r, inv_s2), acc);
        return;
      }
      Value* s = to_d(load(sg, k));
      Value* inv_s = B_.CreateFDiv(cd(1), s);
      acc[2] = B_.CreateAnd(acc[2], positive(s));
      if (keep_log) acc[1] = sum_add(acc[1], log_of(sg, k));
      Value* z = B_.CreateFMul(r, inv_s);
      Value* zz = B_.CreateFMul(z, z);
      Value* dz = B_.CreateFMul(z, inv_s);
      acc[0] = sum_add(acc[0], zz);
      give(py, k, B_.CreateFNeg(dz), acc);
      give(pm, k, dz, acc);
      if (ps.adj != kNoOffset)
        give(ps, k, B_.CreateFMul(B_.CreateFSub(zz, cd(keep_log ? 1 : 0)), inv_s), acc);
    });
    Value* sz2 = vec_sigma ? accs[0] : B_.CreateFMul(accs[0], inv_s2);
    Value* lp = B_.CreateFMul(cd(-0.5), sz2);
    Value* valid = B_.CreateAnd(accs[2], isfinite(sz2));
    if (vec_sigma) {
      lp = B_.CreateFSub(lp, accs[1]);
    } else {
      valid = B_.CreateAnd(valid, sigma_ok);
      if (keep_log) lp = B_.CreateFSub(lp, B_.CreateFMul(cd(double(n)), log_of(sg, Idx{})));
      if (ps.adj != kNoOffset) {
        Value* d = B_.CreateFSub(sz2, cd(keep_log ? double(n) : 0.0));  // sigma * dlp/dsigma
        add_to(ps.adj, Idx{}, to_t(on_log_scale ? d : B_.CreateFMul(d, inv_s0)));
      }
      // Scalar y / mu partials were summed over residuals: scale them now.
      for (Partial* p : {&py, &pm})
        if (p->adj != kNoOffset && p->scalar) accs[size_t(p->acc)] = B_.CreateFMul(accs[size_t(p->acc)], inv_s2);
    }
    if (!I.propto) lp = B_.CreateFSub(lp, cd(double(n) * kHalfLog2Pi));
    finish(py, accs);
    finish(pm, accs);
    return B_.CreateSelect(valid, lp, ConstantFP::getInfinity(Dt_, true));
  }

  // A libm function of one double, by name (resolved in this process), pure.
  Value* libm(const char* name, Value* a) {
    FunctionCallee f = M_.getOrInsertFunction(name, FunctionType::get(Dt_, {Dt_}, false));
    CallInst* c = B_.CreateCall(f, {a});
    c->addFnAttr(Attribute::ReadNone);
    c->addFnAttr(Attribute::NoUnwind);
    c->addFnAttr(Attribute::WillReturn);
    return c;
  }
  Value* special(Op op, Value* a) {  // lgamma, digamma (Boost, no-throw policy) in double
    return call_pure(reinterpret_cast<void*>(&call_unary_f<double>), Dt_, {B_.getInt32Ty(), Dt_},
                     {B_.getInt32(int(op)), a});
  }

  // student_t(y | nu, mu, sigma) with one nu, as the interpreter's kernel:
  // -(nu+1)/2 log1p(z^2/nu) - log sigma + lgamma((nu+1)/2) - lgamma(nu/2) - log(nu)/2, the
  // constants kept as propto says; log sigma comes free when sigma is an exp (log_of).
  Value* emit_student_t(const JitIns<T>& J, const Ins& I, uint32_t n) {
    const JitOperand<T>&y = J.in[0], &nuo = J.in[1], &mu = J.in[2], &sg = J.in[3];
    const bool keep_nu = !I.propto || nuo.param, keep_log = !I.propto || sg.param;
    const bool vec_sigma = sg.n > 1;
    Value* nu = to_d(load(nuo, Idx{}));
    Value* inv_nu = B_.CreateFDiv(cd(1), nu);
    Value* nu1 = B_.CreateFAdd(nu, cd(1));
    // sum log1p, sum log sigma, sum w r (the nu partial), valid
    std::vector<Value*> accs = {cd(0), cd(0), cd(0), B_.getTrue()};
    Partial py = partial(J, 0, accs), pm = partial(J, 2, accs), ps = partial(J, 3, accs);
    Value* inv_s0 = vec_sigma ? nullptr : B_.CreateFDiv(cd(1), to_d(load(sg, Idx{})));
    accs = loop(n, accs, [&](Idx k, std::vector<Value*>& acc) {
      Value* yv = to_d(load(y, k));
      Value* mv = to_d(load(mu, k));
      Value* inv_s = inv_s0;
      if (vec_sigma) {
        Value* s = to_d(load(sg, k));
        inv_s = B_.CreateFDiv(cd(1), s);
        acc[3] = B_.CreateAnd(acc[3], positive(s));
        if (keep_log) acc[1] = sum_add(acc[1], log_of(sg, k));
      }
      acc[3] = B_.CreateAnd(acc[3], B_.CreateAnd(isfinite(yv), isfinite(mv)));
      Value* z = B_.CreateFMul(B_.CreateFSub(yv, mv), inv_s);
      Value* z2 = B_.CreateFMul(z, z);
      Value* r = B_.CreateFMul(z2, inv_nu);
      acc[0] = sum_add(acc[0], libm("log1p", r));
      Value* w = B_.CreateFDiv(nu1, B_.CreateFAdd(nu, z2));
      acc[2] = sum_add(acc[2], B_.CreateFMul(w, r));
      Value* dy = B_.CreateFNeg(B_.CreateFMul(B_.CreateFMul(w, z), inv_s));
      give(py, k, dy, acc);
      give(pm, k, B_.CreateFNeg(dy), acc);
      give(ps, k, B_.CreateFMul(B_.CreateFSub(B_.CreateFMul(w, z2), cd(1)), inv_s), acc);
    });
    Value* valid = B_.CreateAnd(accs[3], positive(nu));
    if (!vec_sigma) valid = B_.CreateAnd(valid, positive(to_d(load(sg, Idx{}))));
    const double nd = double(n);
    Value* lp = B_.CreateFMul(B_.CreateFMul(cd(-0.5), nu1), accs[0]);
    if (keep_nu) {
      Value* c = B_.CreateFSub(special(Op::kLgamma, B_.CreateFMul(cd(0.5), nu1)),
                               special(Op::kLgamma, B_.CreateFMul(cd(0.5), nu)));
      c = B_.CreateFSub(c, B_.CreateFMul(cd(0.5), intrinsic(Intrinsic::log, {nu})));
      lp = B_.CreateFAdd(lp, B_.CreateFMul(cd(nd), c));
    }
    if (keep_log) {
      lp = vec_sigma ? B_.CreateFSub(lp, accs[1])
                     : B_.CreateFSub(lp, B_.CreateFMul(cd(nd), log_of(sg, Idx{})));
    }
    if (!I.propto) lp = B_.CreateFSub(lp, cd(nd * 0.5 * kLogPi));
    if (J.in_adj[1] != kNoOffset) {
      Value* c = B_.CreateFMul(cd(0.5), B_.CreateFSub(B_.CreateFSub(special(Op::kDigamma, B_.CreateFMul(cd(0.5), nu1)),
                                                                    special(Op::kDigamma, B_.CreateFMul(cd(0.5), nu))),
                                                      inv_nu));
      Value* gnu = B_.CreateFAdd(B_.CreateFMul(cd(nd), c),
                                 B_.CreateFMul(cd(0.5), B_.CreateFSub(accs[2], accs[0])));
      add_to(J.in_adj[1], Idx{}, to_t(gnu));
    }
    finish(py, accs);
    finish(pm, accs);
    finish(ps, accs);
    return B_.CreateSelect(valid, lp, ConstantFP::getInfinity(Dt_, true));
  }

  // std_normal(y): -y^2/2 (- log sqrt(2 pi) unless propto), -inf unless every y is finite.
  Value* emit_std_normal(const JitIns<T>& J, const Ins& I, uint32_t n) {
    std::vector<Value*> accs = {cd(0)};
    Partial py = partial(J, 0, accs);
    accs = loop(n, accs, [&](Idx k, std::vector<Value*>& acc) {
      Value* y = to_d(load(J.in[0], k));
      acc[0] = sum_add(acc[0], B_.CreateFMul(y, y));
      give(py, k, B_.CreateFNeg(y), acc);
    });
    Value* lp = B_.CreateFMul(cd(-0.5), accs[0]);
    if (!I.propto) lp = B_.CreateFSub(lp, cd(double(n) * kHalfLog2Pi));
    finish(py, accs);
    return B_.CreateSelect(isfinite(accs[0]), lp, ConstantFP::getInfinity(Dt_, true));
  }

  // exponential(y | beta): -beta y (+ log beta unless propto with a constant beta).
  Value* emit_exponential(const JitIns<T>& J, const Ins& I, uint32_t n) {
    const JitOperand<T>&y = J.in[0], &b = J.in[1];
    const bool keep_log = !I.propto || b.param;
    std::vector<Value*> accs = {cd(0), cd(0), B_.getTrue()};  // sum -beta y, sum log beta, valid
    Partial py = partial(J, 0, accs), pb = partial(J, 1, accs);
    accs = loop(n, accs, [&](Idx k, std::vector<Value*>& acc) {
      Value* yv = to_d(load(y, k));
      Value* bv = to_d(load(b, k));
      acc[2] = B_.CreateAnd(acc[2], B_.CreateAnd(non_negative(yv), positive(bv)));
      acc[0] = sum_add(acc[0], B_.CreateFNeg(B_.CreateFMul(bv, yv)));
      if (keep_log && b.n > 1) acc[1] = sum_add(acc[1], log_of(b, k));
      give(py, k, B_.CreateFNeg(bv), acc);
      if (pb.adj != kNoOffset) give(pb, k, B_.CreateFSub(B_.CreateFDiv(cd(1), bv), yv), acc);
    });
    Value* lp = accs[0];
    if (keep_log) {
      lp = b.n > 1 ? B_.CreateFAdd(lp, accs[1])
                   : B_.CreateFAdd(lp, B_.CreateFMul(cd(double(n)), log_of(b, Idx{})));
    }
    finish(py, accs);
    finish(pb, accs);
    return B_.CreateSelect(accs[2], lp, ConstantFP::getInfinity(Dt_, true));
  }

  const JitPlan<T>& P_;
  const JitHost& H_;
  LLVMContext& C_;
  Module& M_;
  IRBuilder<> B_;
  Type *Tt_, *Dt_, *I64_;
  PointerType* Ptr_;
  Function* F_ = nullptr;
  Value *x_ = nullptr, *g_ = nullptr, *arena_ = nullptr, *ex_ = nullptr;
  std::vector<Value*> lp_;
  // With no kernel calls, parameters are read from x and their adjoints summed straight into
  // g: the kernels read the parameter block, so otherwise x is copied in and g out.
  bool params_direct_ = false;
  std::vector<char> run_only_;
  std::vector<char> log_scaled_;
  int loop_depth_ = 0;  // > 0 while emitting a loop body
};

template <class T>
class LlvmCode final : public JitCode<T> {
 public:
  std::unique_ptr<orc::LLJIT> jit;
};

void init_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
}

template <class T>
std::unique_ptr<JitCode<T>> compile_module(const JitPlan<T>& plan, const JitHost& host, std::string* why) {
  init_llvm();
  auto fail = [&](std::string m) -> std::unique_ptr<JitCode<T>> {
    if (why) *why = std::move(m);
    return nullptr;
  };
  auto ctx = std::make_unique<LLVMContext>();
  auto mod = std::make_unique<Module>("exmc", *ctx);
  Emitter<T> em(plan, host, *ctx, *mod);
  Function* f = em.emit();
  std::string err;
  raw_string_ostream es(err);
  if (verifyFunction(*f, &es)) return fail("generated code does not verify: " + es.str());

  auto jtmb = orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return fail(toString(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(CodeGenOpt::Aggressive);
  // JITLink places all of a module's sections in one allocation, so the small code model
  // (constants addressed relative to the code) is safe; libm and libc are reached through
  // stubs it builds.
  jtmb->setCodeModel(CodeModel::Small);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return fail(toString(tm.takeError()));
  mod->setDataLayout((*tm)->createDataLayout());
  mod->setTargetTriple((*tm)->getTargetTriple().str());
  {
    PassBuilder pb(tm->get());
    LoopAnalysisManager lam;
    FunctionAnalysisManager fam;
    CGSCCAnalysisManager cam;
    ModuleAnalysisManager mam;
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cam, mam);
    pb.buildPerModuleDefaultPipeline(OptimizationLevel::O2).run(*mod, mam);
  }
  // EXMC_JIT_DUMP=1 prints the optimised IR, =2 the machine code (both to stderr).
  if (const char* dump = std::getenv("EXMC_JIT_DUMP"); dump && *dump == '1') mod->print(errs(), nullptr);
  if (const char* dump = std::getenv("EXMC_JIT_DUMP"); dump && *dump == '2') {
    auto clone = CloneModule(*mod);
    legacy::PassManager pm;
    if (!(*tm)->addPassesToEmitFile(pm, errs(), nullptr, CGFT_AssemblyFile)) pm.run(*clone);
  }
  auto jit = orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .setObjectLinkingLayerCreator([](orc::ExecutionSession& es, const Triple&)
                                                   -> Expected<std::unique_ptr<orc::ObjectLayer>> {
                   return std::make_unique<orc::ObjectLinkingLayer>(es);
                 })
                 .create();
  if (!jit) return fail(toString(jit.takeError()));
  // exp, log and the memset the code calls are the process's own (libm, libc).
  auto gen = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen) return fail(toString(gen.takeError()));
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  if (auto e = (*jit)->addIRModule(orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
    return fail(toString(std::move(e)));
  auto sym = (*jit)->lookup("exmc_grad");
  if (!sym) return fail(toString(sym.takeError()));
  auto code = std::make_unique<LlvmCode<T>>();
  code->fn = reinterpret_cast<typename JitCode<T>::Fn>(sym->getAddress());
  code->inlined = em.inlined;
  code->called = em.called;
  code->self_contained = em.self_contained;
  code->jit = std::move(*jit);
  return code;
}

}  // namespace
}  // namespace exmc::graph::detail

// The module's entry points (jit.hpp, JitCompileFn64 / JitCompileFn32).
extern "C" exmc::graph::detail::JitCode<double>* exmc_jit_compile_f64(
    const exmc::graph::detail::JitPlan<double>* plan, const exmc::graph::detail::JitHost* host,
    std::string* why) {
  return exmc::graph::detail::compile_module(*plan, *host, why).release();
}
extern "C" exmc::graph::detail::JitCode<float>* exmc_jit_compile_f32(
    const exmc::graph::detail::JitPlan<float>* plan, const exmc::graph::detail::JitHost* host,
    std::string* why) {
  return exmc::graph::detail::compile_module(*plan, *host, why).release();
}

