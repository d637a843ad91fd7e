#include "api/JsonViews.h"

#include "api/AttributeJson.h"
#include "json/JsonWriter.h"

namespace faultline::api {

void append_toxic(std::string& out, const ToxicSpec& t) {
  json::ObjectWriter obj(out);
  {
    std::string& attrs = obj.key("attributes");
    json::ObjectWriter a(attrs);
    const auto& schema = t.toxic_type().attributes;
    for (size_t i = 0; i < schema.size() && i < t.attributes.size(); ++i) {
      if (schema[i].extension && t.attributes[i] == schema[i].default_value) continue;
      append_attribute(a.key(schema[i].name), t.attributes[i]);
    }
  }
  obj.field("name", t.name);
  obj.field("type", t.type_name());
  obj.field("stream", t.stream);
  json::append_float32(obj.key("toxicity"), t.toxicity);
  if (!t.clients.empty()) {  // only when set: Toxiproxy clients never see the key
    std::string& list = obj.key("clients");
    list += '[';
    for (size_t i = 0; i < t.clients.written().size(); ++i) {
      if (i) list += ',';
      json::append_string(list, t.clients.written()[i]);
    }
    list += ']';
  }
  if (t.duration) {  // only for a timed toxic: Toxiproxy clients never see these keys
    obj.field("duration_ms", static_cast<int64_t>(std::chrono::duration_cast<Millis>(*t.duration).count()));
    obj.field("expires_in_ms", t.expires_in_ms);
  }
}

void append_proxy(std::string& out, const ProxyView& p) {
  json::ObjectWriter obj(out);
  obj.field("name", p.spec.name);
  obj.field("listen", p.spec.listen);
  obj.field("upstream", p.spec.upstream);
  obj.field("enabled", p.spec.enabled);
  if (p.spec.protocol != "tcp") obj.field("protocol", p.spec.protocol);  // Toxiproxy clients never see the key
  std::string& toxics = obj.key("toxics");
  toxics += '[';
  for (size_t i = 0; i < p.toxics.size(); ++i) {
    if (i) toxics += ',';
    append_toxic(toxics, p.toxics[i]);
  }
  toxics += ']';
}

std::string toxic_json(const ToxicSpec& toxic) {
  std::string out;
  append_toxic(out, toxic);
  return out;
}

std::string proxy_json(const ProxyView& proxy) {
  std::string out;
  append_proxy(out, proxy);
  return out;
}

std::string toxics_json(const std::vector<ToxicSpec>& toxics) {
  std::string out = "[";
  for (size_t i = 0; i < toxics.size(); ++i) {
    if (i) out += ',';
    append_toxic(out, toxics[i]);
  }
  out += ']';
  return out;
}

std::string proxy_map_json(const std::vector<ProxyView>& proxies) {
  std::string out;
  {
    json::ObjectWriter obj(out);
    for (const auto& p : proxies) append_proxy(obj.key(p.spec.name), p);
  }
  return out;
}

std::string populate_json(const std::vector<ProxyView>* proxies) {
  std::string out;
  {
    json::ObjectWriter obj(out);
    std::string& list = obj.key("proxies");
    if (!proxies || proxies->empty()) {
      list += "null";  // Toxiproxy answers null, not [], for an empty list
    } else {
      list += '[';
      for (size_t i = 0; i < proxies->size(); ++i) {
        if (i) list += ',';
        append_proxy(list, (*proxies)[i]);
      }
      list += ']';
    }
  }
  return out;
}

std::string stats_json(const std::vector<ProxyMetricsView>& proxies) {
  std::string out;
  {
    json::ObjectWriter all(out);
    for (const auto& p : proxies) {
      json::ObjectWriter one(all.key(p.name));
      const ProxyCounters& c = *p.counters;
      auto load = [&](const std::atomic<uint64_t>& v) { return static_cast<int64_t>(v.load(std::memory_order_relaxed)); };
      one.field("enabled", p.enabled);
      one.field("connections", static_cast<int64_t>(c.connections_active.load(std::memory_order_relaxed)));
      one.field("connections_accepted", load(c.connections_accepted));
      if (p.kernel_path) one.field("connections_in_kernel", static_cast<int64_t>(c.connections_in_kernel.load(std::memory_order_relaxed)));
      one.field("upstream_connect_failures", load(c.upstream_connect_failures));
      one.field("bytes_upstream", load(c.directions[0].bytes_sent));
      one.field("bytes_downstream", load(c.directions[1].bytes_sent));
      if (!p.schedules.empty()) {  // only while some run
        std::string& list = one.key("schedules");
        list += '[';
        for (size_t i = 0; i < p.schedules.size(); ++i) {
          if (i) list += ',';
          json::append_string(list, p.schedules[i]);
        }
        list += ']';
      }
    }
  }
  return out;
}

std::string error_json(int status, const std::string& message) {
  std::string out;
  {
    json::ObjectWriter obj(out);
    obj.field("error", message);
    obj.field("status", status);
  }
  return out;
}

}  // namespace faultline::api
