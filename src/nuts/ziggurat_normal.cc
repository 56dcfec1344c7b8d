// Ziggurat tables (Marsaglia-Tsang, 256 layers, Doornik's variant) and the rare slow path.
#include "exmc/nuts/ziggurat_normal.hpp"

namespace exmc::nuts::detail {

namespace {
constexpr double kR = 3.6541528853610088;   // start of the tail
constexpr double kV = 0.00492867323399;     // area of each layer
inline double f(double x) { return std::exp(-0.5 * x * x); }
}  // namespace

ZigguratTables::ZigguratTables() {
  x[0] = kV / f(kR);
  x[1] = kR;
  for (int i = 2; i < 256; ++i) x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f(x[i - 1])));
  x[256] = 0.0;
  for (int i = 0; i < 256; ++i) ratio[i] = x[i + 1] / x[i];
}

const ZigguratTables& ziggurat_tables() {
  static const ZigguratTables t;
  return t;
}

double ziggurat_slow(Rng& rng, int layer, double u) {
  const ZigguratTables& t = ziggurat_tables();
  while (true) {
    if (layer == 0) {  // base strip: the tail beyond R, by Marsaglia's method
      double a, b;
      do {
        a = std::log(rng.uniform()) / kR;
        b = std::log(rng.uniform());
      } while (-2.0 * b < a * a);
      return u < 0 ? a - kR : kR - a;
    }
    const double x = u * t.x[layer];
    const double f0 = std::exp(-0.5 * (t.x[layer] * t.x[layer] - x * x));
    const double f1 = std::exp(-0.5 * (t.x[layer + 1] * t.x[layer + 1] - x * x));
    if (f1 + rng.uniform() * (f0 - f1) < 1.0) return x;
    // Rejected: draw a fresh point.
    const uint64_t r = rng.next_u64();
    layer = static_cast<int>(r & 0xff);
    u = ((static_cast<double>(r >> 11) + 0.5) * 0x1.0p-53) * 2.0 - 1.0;
    if (std::fabs(u) < t.ratio[layer]) return u * t.x[layer];
  }
}

}  // namespace exmc::nuts::detail
