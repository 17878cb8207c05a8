// Extra input / output channels of a live session beside ZeroMQ (issue 14, H-03): the MQTT
// profiles (hardware-in-loop/mqtt/) and the omlox hub API (hardware-in-loop/omlox/).
//
// A channel is an adapter: it turns a vendor's message into live-v1 messages (topic, body as in
// docs/live-v1.md) and hands them to the loop through ChannelHost::deliver, which stamps, decides,
// records and publishes them exactly as a ZeroMQ input. So the session, the recording and replay
// see nothing new: a replay of a session fed by MQTT or omlox gives the same hash. Every engine
// output is handed to every channel (ChannelHost calls output()); every fix the engine applies is
// handed to on_fix() (the omlox fence events).
//
// Threads: open() runs before the session on the caller's thread; start(), output(), on_fix(),
// stop() and every ChannelHost call run on the loop's thread. A channel with its own network thread
// (libmosquitto) posts to host.context() and touches the host only from there.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "hardware-in-loop/session.h"
#include "hardware-in-loop/wire.h"
#include "scenarios/scenario.h"

namespace boost::asio {
class io_context;
}

namespace planttwin::hil {

// What deliver() says about one live-v1 message.
struct Delivery {
  bool accepted = false;
  std::string reason, detail;  // when refused: DecodeError's
};

class ChannelHost {
 public:
  virtual ~ChannelHost() = default;
  virtual boost::asio::io_context& context() = 0;
  // One live-v1 message from `source` that arrived (was read off the network) at `arrival`:
  // stamped now, decided, recorded and published as a ZeroMQ input. A refused one has been
  // answered on every channel's `error` (the session publishes it) and counted for the source.
  virtual Delivery deliver(const std::string& source, std::string_view topic, std::string_view body,
                           std::chrono::steady_clock::time_point arrival) = 0;
  // A message the adapter could not turn into live-v1 (bad JSON, wrong wrapper, unknown provider
  // ...): counted for the source (received and dropped), not recorded. The adapter answers it.
  virtual void rejected(const std::string& source, const std::string& reason) = 0;
  // After a batch of deliver() calls: the recording is flushed.
  virtual void batch_done() = 0;
  virtual SourceStats& source(const std::string& name) = 0;
  // The session's scenario (its clock at the session's start), its engine and its start.
  virtual const Scenario& scenario() const = 0;
  virtual const Engine& engine() const = 0;
  virtual std::int64_t start_unix_ms() const = 0;
  // Unix ms of the session's current time (the time a message without its own time gets).
  virtual std::int64_t now_unix_ms() const = 0;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Binds listening sockets, reads profiles, checks URLs. false with a message: exit 2.
  virtual bool open(boost::asio::io_context& io, std::string& error) = 0;
  // What the command prints ("omlox hub API on http://127.0.0.1:8080/v2").
  virtual std::string describe() const = 0;
  virtual void start(ChannelHost& host) = 0;
  // Every output of the session (alarm, warn, zone_count, gathering, refusal, stats, error ...).
  virtual void output(const WireMessage& m) = 0;
  // Every fix the engine applied (any source): session time, person id, tag id, the fix.
  virtual void on_fix(Micros /*t*/, const std::string& /*person*/, const std::string& /*tag*/, const FixInput& /*f*/) {}
  // The session ends: close connections (bounded in time).
  virtual void stop() = 0;
};

}  // namespace planttwin::hil
