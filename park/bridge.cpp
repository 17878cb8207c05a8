// `planttwin live SCENARIO --nats URL` (park/park.h): vendors' ZeroMQ clients unchanged, their
// messages stamped on arrival into the park's log, the site's outputs back on a PUB socket.
#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <zmq.hpp>

#include "hardware-in-loop/wire.h"
#include "park/nats_impl.h"

namespace planttwin::park {

namespace {

struct OutQueue {
  std::mutex mu;
  std::deque<std::pair<std::string, std::string>> q;  // topic, body
};

void on_output(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* oq = static_cast<OutQueue*>(closure);
  const std::string subj = natsMsg_GetSubject(msg);
  std::string body(natsMsg_GetData(msg) ? natsMsg_GetData(msg) : "", static_cast<size_t>(natsMsg_GetDataLength(msg)));
  {
    std::lock_guard<std::mutex> lk(oq->mu);
    oq->q.emplace_back(subj.substr(subj.rfind('.') + 1), std::move(body));
  }
  natsMsg_Destroy(msg);
}

}  // namespace

bool run_bridge(Nats& n, const Scenario& sc, const BridgeOptions& o, const std::atomic<bool>& stop, std::uint64_t& forwarded,
                std::string& error) {
  forwarded = 0;
  Nats::Impl& m = n.impl();
  zmq::context_t zctx(1);
  zmq::socket_t pull(zctx, zmq::socket_type::pull), pub(zctx, zmq::socket_type::pub);
  std::string in_ep, pub_ep;
  try {
    pull.bind(o.bind);
    in_ep = pull.get(zmq::sockopt::last_endpoint);
    if (!o.publish.empty()) {
      pub.bind(o.publish);
      pub_ep = pub.get(zmq::sockopt::last_endpoint);
    }
  } catch (const zmq::error_t& e) {
    error = std::string("cannot bind ") + (in_ep.empty() ? o.bind : o.publish) + ": " + e.what();
    return false;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t start_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  SiteDef def;
  if (!add_site(n, sc, o.with_script, def, error, start_us)) return false;
  JsContext js;
  if (!js.open(m.nc, error)) return false;
  OutQueue oq;
  natsSubscription* sub = nullptr;
  const std::string out_filter = "park.out." + def.key + ".>";
  if (!o.publish.empty() && natsConnection_Subscribe(&sub, m.nc, out_filter.c_str(), on_output, &oq) != NATS_OK) {
    error = "cannot subscribe to " + out_filter;
    return false;
  }
  if (o.on_ready)
    o.on_ready("Site " + def.key + ": inputs " + in_ep + " -> " + in_subject(def.key) + (pub_ep.empty() ? "" : ", outputs -> " + pub_ep));
  const std::string subject = in_subject(def.key);
  auto now_t = [&] {
    return static_cast<Micros>(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
  };
  bool ok = true;
  while (!stop.load() && (!o.duration || now_t() < *o.duration)) {
    zmq::pollitem_t items[] = {{static_cast<void*>(pull), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(20));
    // what one turn reads is one batch with one stamp, as in `live` (docs/live-v1.md "Input
    // batches"): a message alone goes as itself, several as a batch message (docs/park.md
    // "Batches"). A message that cannot be a batch line (not [topic, body], a topic with a space,
    // a body with a line break) ends the batch and goes alone. The park's own topics `end` and
    // `batch` are not live-v1 inputs: from a client they always go inside a batch, where the
    // worker answers them as an unknown topic (a client can neither end the site nor forge a batch)
    const std::string t = std::to_string(now_t());
    std::vector<std::pair<std::string, std::string>> held;
    std::size_t held_bytes = 0;
    auto reserved = [](const std::string& topic) { return topic == kEndTopic || topic == kBatchTopic; };
    auto flush = [&] {
      bool sent = true;
      if (held.size() == 1 && !reserved(held[0].first)) {
        sent = publish_async(js.js, subject, held[0].second, {{kTopicHeader, held[0].first}, {kTimeHeader, t}}, error);
      } else if (!held.empty()) {
        std::string body;
        body.reserve(held_bytes);
        for (const auto& [topic, b] : held) append_batch_line(body, topic, b);
        sent = publish_async(js.js, subject, body, {{kTopicHeader, kBatchTopic}, {kTimeHeader, t}}, error);
      }
      held.clear();
      held_bytes = 0;
      return sent;
    };
    for (int k = 0; k < 1000 && (items[0].revents & ZMQ_POLLIN); ++k) {
      std::vector<zmq::message_t> parts;
      zmq::message_t part;
      bool got = false;
      while (pull.recv(part, zmq::recv_flags::dontwait)) {
        got = true;
        const bool more = part.more();
        parts.push_back(std::move(part));
        if (!more) break;
      }
      if (!got) break;
      ++forwarded;
      std::string topic = parts[0].to_string();
      if (parts.size() != 2) {
        if (!flush() || !publish_async(js.js, subject, topic, {{kTimeHeader, t}}, error)) {  // no topic header: a bad frame
          ok = false;
          break;
        }
        continue;
      }
      std::string body = parts[1].to_string();
      // a body past live-v1's limit is refused by the worker whatever it holds (body_too_large),
      // so only its first bytes travel: a client's 3 MB message must not pass nats-server's
      // max_payload (1 MiB) and stop the bridge. The worker's answer names the size it saw.
      if (body.size() > hil::kMaxBodyBytes + 1) body.resize(hil::kMaxBodyBytes + 1);
      if (topic.size() > 256) topic.resize(256);  // no topic is that long: unknown either way
      if (reserved(topic)) std::replace_if(body.begin(), body.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      const bool line = !topic.empty() && topic.find_first_of(" \r\n") == std::string::npos && body.find_first_of("\r\n") == std::string::npos;
      const std::size_t bytes = batch_line_bytes(topic, body);
      if (line && held_bytes + bytes > kMaxBatchBytes && !flush()) {
        ok = false;
        break;
      }
      if (line) {
        held_bytes += bytes;
        held.emplace_back(std::move(topic), std::move(body));
        continue;
      }
      if (!flush() || !publish_async(js.js, subject, body, {{kTopicHeader, topic}, {kTimeHeader, t}}, error)) {
        ok = false;
        break;
      }
    }
    if (ok && !flush()) ok = false;
    if (!ok) break;
    std::deque<std::pair<std::string, std::string>> outs;
    {
      std::lock_guard<std::mutex> lk(oq.mu);
      outs.swap(oq.q);
    }
    for (auto& [topic, body] : outs) {
      pub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
      pub.send(zmq::buffer(body), zmq::send_flags::none);
    }
  }
  if (ok) ok = publish_async(js.js, subject, "", {{kTopicHeader, kEndTopic}, {kTimeHeader, std::to_string(now_t())}}, error);
  std::string perr;
  if (ok && !publish_complete(js.js, 10000, perr)) {
    error = subject + ": " + perr;
    ok = false;
  }
  if (sub) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  return ok;
}

}  // namespace planttwin::park
