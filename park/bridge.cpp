// `planttwin live SCENARIO --nats URL` (park/park.h): vendors' ZeroMQ clients unchanged, their
// messages stamped on arrival into the park's log, the site's outputs back on a PUB socket.
#include <chrono>
#include <deque>
#include <mutex>
#include <zmq.hpp>

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
      const std::string t = std::to_string(now_t());
      const std::string first = parts[0].to_string();
      const bool sent = parts.size() == 2
                            ? publish_async(js.js, subject, parts[1].to_string(), {{kTopicHeader, first}, {kTimeHeader, t}}, error)
                            : publish_async(js.js, subject, first, {{kTimeHeader, t}}, error);  // no topic: a bad frame
      if (!sent) {
        ok = false;
        break;
      }
      ++forwarded;
    }
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
