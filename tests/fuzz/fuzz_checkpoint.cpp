// fuzz_checkpoint: the checkpoint reader (docs/checkpoint.md). Two kinds of input:
//  - a checkpoint file (it starts with the PTCK magic): decode_checkpoint must accept it or refuse
//    it with a reason; an accepted one's engine record goes on as below;
//  - anything else is taken as an engine state's bytes (encode_state): decode_state must accept or
//    refuse; an accepted state is given to Engine::restore, which must refuse a state that does not
//    fit the model rather than crash later; a restored engine must run on for a minute.
// Seeds: `fuzz_checkpoint -seeds_from=FILE.ptck -seeds_out=DIR` writes the engine (and oracle)
// state of a checkpoint written by `planttwin run --checkpoint-every` as raw state seeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "engine/checkpoint.h"
#include "scenarios/checkpoint.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void run_state(std::string_view bytes) {
  using namespace planttwin;
  fuzz::Fixture& f = fuzz::fixture();
  EngineState s;
  std::string why;
  if (!decode_state(bytes, s, why)) {
    if (why.empty()) fuzz::broken("decode_state refused without a reason");
    return;
  }
  if (encode_state(s) != bytes) fuzz::broken("a decoded state does not encode back to the same bytes");
  std::string restore_why;
  if (!f.engine->restore(std::move(s), &restore_why)) {
    if (restore_why.empty()) fuzz::broken("restore refused without a reason");
    return;
  }
  f.engine->advance_to(f.engine->now() + 60 * kSecond);
  f.engine->clear_outputs();
  if (!f.engine->restore(f.initial)) fuzz::broken("the engine refused its own initial state");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  std::string from, out;
  for (int i = 1; i < *argc; ++i) {
    const std::string a = (*argv)[i];
    if (a.rfind("-seeds_from=", 0) == 0) from = a.substr(12);
    if (a.rfind("-seeds_out=", 0) == 0) out = a.substr(11);
  }
  if (from.empty()) return 0;
  std::ifstream in(from, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  planttwin::RunCheckpoint c;
  std::string why;
  if (!planttwin::decode_checkpoint(bytes, c, why)) {
    std::fprintf(stderr, "%s: %s\n", from.c_str(), why.c_str());
    std::exit(2);
  }
  const std::string base = out + "/" + std::string(std::strrchr(from.c_str(), '/') ? std::strrchr(from.c_str(), '/') + 1 : from.c_str());
  std::ofstream(base + ".engine", std::ios::binary) << c.engine;
  if (!c.oracle.empty()) std::ofstream(base + ".oracle", std::ios::binary) << c.oracle;
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= 4 && bytes.substr(0, 4) == "PTCK") {
    RunCheckpoint c;
    std::string why;
    if (!decode_checkpoint(bytes, c, why)) {
      if (why.empty()) fuzz::broken("decode_checkpoint refused without a reason");
      return 0;
    }
    run_state(c.engine);
    return 0;
  }
  run_state(bytes);
  return 0;
}
