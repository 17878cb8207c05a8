// CURVE security for the input socket (docs/live-v1.md "Security"): keys in ZeroMQ certificate
// files (the zcert text format, Z85 keys), and a ZAP handler (ZeroMQ RFC 27) that admits only
// clients whose public key has a certificate in the allowed-clients folder.
#pragma once
#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include <zmq.hpp>

namespace planttwin::hil {

struct CurveCert {
  std::string public_z85, secret_z85;  // 40 Z85 characters each; secret "" in a public certificate
};

// Reads `public-key = "..."` and `secret-key = "..."` from a zcert file (the `curve` section).
bool read_zcert(const std::string& path, CurveCert& out, std::string& error);
// Writes a zcert file (tests, and `docs/live-v1.md`'s key set-up).
bool write_zcert(const std::string& path, const CurveCert& c, std::string& error);
// Every certificate in `dir` (files ending in no suffix, .key or _secret are all read; a file
// without a public key is an error) -> the public keys, 32 raw bytes each.
bool read_allowed_clients(const std::string& dir, std::set<std::string>& keys, std::string& error);
// A fresh key pair (zmq_curve_keypair).
CurveCert make_curve_cert();

// The ZAP handler: a thread with a REP socket on inproc://zeromq.zap.01 in `ctx`. Start it before
// any CURVE server socket binds; stop it before the context ends.
class ZapHandler {
 public:
  ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed_keys);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;
  bool start(std::string& error);
  void stop();
  std::uint64_t allowed() const { return allowed_.load(); }
  std::uint64_t denied() const { return denied_.load(); }

 private:
  void serve();
  zmq::context_t& ctx_;
  std::set<std::string> keys_;
  zmq::socket_t rep_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> allowed_{0}, denied_{0};
};

}  // namespace planttwin::hil
