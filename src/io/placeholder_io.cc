// Keeps exmc_io non-empty until its first real source lands; delete when another .cc exists.
namespace exmc::io { int io_layer_linked = 1; }
