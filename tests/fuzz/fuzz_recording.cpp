// fuzz_recording: the recording reader (docs/recording.md). Any file must be read, read with a torn
// tail reported, or refused with an error; never a crash. The file is written to a private temporary
// path because the reader takes a path, as `planttwin replay` does.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "hardware-in-loop/recording.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin;
  static const std::string path = "/tmp/planttwin-fuzz-recording-" + std::to_string(::getpid()) + ".ptrec";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  hil::Recording rec;
  std::string error;
  if (!hil::read_recording(path, rec, error)) {
    if (error.empty()) fuzz::broken("refused without an error");
    return 0;
  }
  if (rec.intact_bytes + rec.torn_bytes != size) fuzz::broken("intact and torn bytes do not add up to the file");
  if (rec.torn.empty() != (rec.torn_bytes == 0)) fuzz::broken("a torn tail without bytes, or bytes without a reason");
  return 0;
}
