// graph_test runs twice, on the default backend and with EXMC_BACKEND=interpreter. Without this
// check a build whose JIT module fails to load would run the interpreter twice and pass: the
// default run must be on the JIT wherever the JIT was built, and on the interpreter when asked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "../support/prerequisite.hpp"
#include "models.hpp"

namespace exmc::graph {
namespace {

TEST(Backend, DefaultRunsOnTheBackendThisTestRunIsFor) {
  Graph g;
  Expr t = testing::hier_model(g, 2, 4);
  auto d = compile<double>(g, t);
  const char* env = std::getenv("EXMC_BACKEND");
  const bool interpreter_run = env && std::string(env) == "interpreter";
#ifdef EXMC_TEST_JIT_BUILT
  if (interpreter_run) {
    EXPECT_EQ(d->backend(), Backend::kInterpreter);
  } else {
    ASSERT_TRUE(jit_available()) << "the JIT module was built but does not load: every 'default "
                                    "backend' test would silently run the interpreter";
    EXPECT_EQ(d->backend(), Backend::kJit);
  }
#else
  EXPECT_EQ(d->backend(), Backend::kInterpreter);
  if (::exmc::testing::under_ci())
    ADD_FAILURE() << "CI builds the JIT (scripts/setup installs llvm-14-dev), but this build has none";
#endif
}

}  // namespace
}  // namespace exmc::graph
