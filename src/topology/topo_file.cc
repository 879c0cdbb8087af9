// Reading and writing topology files: schema checks on top of the strict JSON reader.
#include "topology/topo_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "topology/json.h"

namespace tutti {
namespace {

using Kind = JsonValue::Kind;

// Wraps a value's position into error messages: "<file>:<line>:<col>: <what>: ...".
class Checker {
 public:
  explicit Checker(std::string source) : source_(std::move(source)) {}

  Result fail(const JsonValue& at, const char* fmt, ...) const
      __attribute__((format(printf, 3, 4))) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return setError(tuttiInvalidArgument, "%s:%d:%d: %s", source_.c_str(), at.line, at.column, msg);
  }

  // Every member of `obj` must be in `allowed`.
  Result onlyFields(const JsonValue& obj, const std::string& what,
                    std::initializer_list<const char*> allowed) const {
    for (const auto& [key, value] : obj.members) {
      bool ok = false;
      for (const char* a : allowed) ok |= key == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        return fail(value, "%s: unknown field '%s' (allowed: %s)", what.c_str(), key.c_str(),
                    list.c_str());
      }
    }
    return tuttiSuccess;
  }

  Result string(const JsonValue& obj, const std::string& what, const char* key, bool required,
                std::string* out) const {
    const JsonValue* v = obj.get(key);
    if (!v) return required ? fail(obj, "%s: missing field '%s'", what.c_str(), key) : tuttiSuccess;
    if (v->kind != Kind::kString)
      return fail(*v, "%s: field '%s' must be a string, not %s", what.c_str(), key, v->kindName());
    *out = v->text;
    return tuttiSuccess;
  }

  Result integer(const JsonValue& obj, const std::string& what, const char* key, bool required,
                 long lo, long hi, int* out) const {
    const JsonValue* v = obj.get(key);
    if (!v) return required ? fail(obj, "%s: missing field '%s'", what.c_str(), key) : tuttiSuccess;
    if (v->kind != Kind::kNumber || !v->integral)
      return fail(*v, "%s: field '%s' must be an integer", what.c_str(), key);
    if (v->number < lo || v->number > hi)
      return fail(*v, "%s: field '%s' is %.0f, outside %ld..%ld", what.c_str(), key, v->number, lo,
                  hi);
    *out = static_cast<int>(v->number);
    return tuttiSuccess;
  }

  Result positive(const JsonValue& obj, const std::string& what, const char* key, bool required,
                  double* out) const {
    const JsonValue* v = obj.get(key);
    if (!v) return required ? fail(obj, "%s: missing field '%s'", what.c_str(), key) : tuttiSuccess;
    if (v->kind != Kind::kNumber)
      return fail(*v, "%s: field '%s' must be a number, not %s", what.c_str(), key, v->kindName());
    if (!(v->number > 0) || v->number > 1e9)
      return fail(*v, "%s: field '%s' must be positive (got %g)", what.c_str(), key, v->number);
    *out = v->number;
    return tuttiSuccess;
  }

  Result boolean(const JsonValue& obj, const std::string& what, const char* key, bool* out) const {
    const JsonValue* v = obj.get(key);
    if (!v) return tuttiSuccess;
    if (v->kind != Kind::kBool)
      return fail(*v, "%s: field '%s' must be true or false", what.c_str(), key);
    *out = v->boolean;
    return tuttiSuccess;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

Result parseNode(const Checker& ck, const JsonValue& j, int host, Topology* t) {
  if (j.kind != Kind::kObject) return ck.fail(j, "a node must be an object, not %s", j.kindName());
  TopoNode n;
  n.host = host;
  TUTTI_TRY(ck.string(j, "node", "id", true, &n.id));
  if (n.id.empty()) return ck.fail(*j.get("id"), "node: field 'id' is empty");
  const std::string what = "node '" + n.id + "'";
  std::string type;
  TUTTI_TRY(ck.string(j, what, "type", true, &type));
  if (!parseNodeType(type, &n.type) || n.type == NodeType::kNet)
    return ck.fail(*j.get("type"), "%s: unknown type '%s' (gpu, cpu, pci_switch, nvswitch, nic)",
                   what.c_str(), type.c_str());
  TUTTI_TRY(ck.string(j, what, "model", false, &n.model));
  switch (n.type) {
    case NodeType::kGpu: {
      TUTTI_TRY(ck.onlyFields(j, what, {"id", "type", "model", "dev", "bus_id", "numa", "no_p2p"}));
      TUTTI_TRY(ck.integer(j, what, "dev", false, 0, 1023, &n.dev));
      TUTTI_TRY(ck.string(j, what, "bus_id", false, &n.busId));
      TUTTI_TRY(ck.integer(j, what, "numa", false, -1, 1023, &n.numa));
      if (const JsonValue* list = j.get("no_p2p")) {
        if (list->kind != Kind::kArray)
          return ck.fail(*list, "%s: 'no_p2p' must be an array", what.c_str());
        for (const JsonValue& p : list->items) {
          if (p.kind != Kind::kString)
            return ck.fail(p, "%s: 'no_p2p' entries are GPU ids", what.c_str());
          n.noP2p.push_back(p.text);
        }
      }
      break;
    }
    case NodeType::kCpu:
      TUTTI_TRY(ck.onlyFields(j, what, {"id", "type", "model", "numa", "cores"}));
      TUTTI_TRY(ck.integer(j, what, "numa", false, 0, 1023, &n.numa));
      TUTTI_TRY(ck.integer(j, what, "cores", false, 0, 1 << 20, &n.cores));
      break;
    case NodeType::kPciSwitch:
      TUTTI_TRY(ck.onlyFields(j, what, {"id", "type", "model", "bus_id"}));
      TUTTI_TRY(ck.string(j, what, "bus_id", false, &n.busId));
      break;
    case NodeType::kNvSwitch: TUTTI_TRY(ck.onlyFields(j, what, {"id", "type", "model"})); break;
    case NodeType::kNic:
      TUTTI_TRY(ck.onlyFields(j, what,
                              {"id", "type", "model", "bus_id", "numa", "port", "speed_gbps",
                               "rdma", "gdr", "netdev"}));
      TUTTI_TRY(ck.string(j, what, "bus_id", false, &n.busId));
      TUTTI_TRY(ck.integer(j, what, "numa", false, -1, 1023, &n.numa));
      TUTTI_TRY(ck.integer(j, what, "port", false, 1, 255, &n.dev));
      TUTTI_TRY(ck.positive(j, what, "speed_gbps", true, &n.speedGbps));
      TUTTI_TRY(ck.boolean(j, what, "rdma", &n.rdma));
      TUTTI_TRY(ck.boolean(j, what, "gdr", &n.gdr));
      TUTTI_TRY(ck.string(j, what, "netdev", false, &n.netdev));
      if (n.gdr && !n.rdma) return ck.fail(*j.get("gdr"), "%s: 'gdr' needs 'rdma'", what.c_str());
      break;
    default: break;
  }
  if (t->find(host, n.id) >= 0)
    return ck.fail(*j.get("id"), "duplicate node id '%s'", n.id.c_str());
  t->addNode(n);
  return tuttiSuccess;
}

Result parseLink(const Checker& ck, const JsonValue& j, int host, Topology* t) {
  if (j.kind != Kind::kObject) return ck.fail(j, "a link must be an object, not %s", j.kindName());
  std::string a, b, type;
  TUTTI_TRY(ck.string(j, "link", "a", true, &a));
  TUTTI_TRY(ck.string(j, "link", "b", true, &b));
  const std::string what = "link " + a + "-" + b;
  TUTTI_TRY(ck.string(j, what, "type", true, &type));
  TopoLink l;
  if (!parseLinkType(type, &l.type) || l.type == LinkType::kNet)
    return ck.fail(*j.get("type"), "%s: unknown type '%s' (nvlink, pcie, smp)", what.c_str(),
                   type.c_str());
  double bw = 0, lat = 0;
  switch (l.type) {
    case LinkType::kNvLink: {
      TUTTI_TRY(ck.onlyFields(
          j, what, {"a", "b", "type", "count", "link_bw", "version", "bw", "latency_us"}));
      int version = 0;
      double linkBw = 0;
      TUTTI_TRY(ck.integer(j, what, "count", false, 1, 64, &l.count));
      TUTTI_TRY(ck.integer(j, what, "version", false, 1, 5, &version));
      TUTTI_TRY(ck.positive(j, what, "link_bw", false, &linkBw));
      if (!linkBw) linkBw = nvlinkBandwidth(version ? version : 4);
      bw = l.count * linkBw;
      break;
    }
    case LinkType::kPcie: {
      TUTTI_TRY(ck.onlyFields(j, what, {"a", "b", "type", "gen", "width", "bw", "latency_us"}));
      TUTTI_TRY(ck.integer(j, what, "gen", false, 1, 6, &l.gen));
      TUTTI_TRY(ck.integer(j, what, "width", false, 1, 32, &l.width));
      if (l.width && (l.width & (l.width - 1)))
        return ck.fail(*j.get("width"), "%s: 'width' must be 1, 2, 4, 8, 16 or 32", what.c_str());
      if (!j.get("bw") && (!l.gen || !l.width))
        return ck.fail(j, "%s: a pcie link needs 'gen' and 'width', or 'bw'", what.c_str());
      if (l.gen && l.width) bw = pcieBandwidth(l.gen, l.width);
      break;
    }
    default: TUTTI_TRY(ck.onlyFields(j, what, {"a", "b", "type", "bw", "latency_us"})); break;
  }
  double given = 0;
  TUTTI_TRY(ck.positive(j, what, "bw", false, &given));
  TUTTI_TRY(ck.positive(j, what, "latency_us", false, &lat));
  l.bw = given ? given : bw;
  l.latUs = lat;
  l.a = t->find(host, a);
  l.b = t->find(host, b);
  if (l.a < 0)
    return ck.fail(*j.get("a"), "%s: no node '%s' on this host", what.c_str(), a.c_str());
  if (l.b < 0)
    return ck.fail(*j.get("b"), "%s: no node '%s' on this host", what.c_str(), b.c_str());
  if (l.a == l.b) return ck.fail(j, "%s: a link cannot join a node to itself", what.c_str());
  t->addLink(l);
  return tuttiSuccess;
}

Result parseHost(const Checker& ck, const JsonValue& j, int host, Topology* t) {
  const JsonValue* nodes = j.get("nodes");
  const JsonValue* links = j.get("links");
  if (!nodes || nodes->kind != Kind::kArray)
    return ck.fail(nodes ? *nodes : j, "host: 'nodes' must be an array of node objects");
  for (const JsonValue& n : nodes->items) TUTTI_TRY(parseNode(ck, n, host, t));
  if (links) {
    if (links->kind != Kind::kArray) return ck.fail(*links, "host: 'links' must be an array");
    for (const JsonValue& l : links->items) TUTTI_TRY(parseLink(ck, l, host, t));
  }
  return tuttiSuccess;
}

std::string dirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

constexpr off_t kMaxTopologyFileBytes = 64 << 20;

Result readFile(const std::string& path, std::string* text) {
  // A node file named in a cluster may be any path: refuse devices and pipes (/dev/zero
  // would be read forever) and files too large to be a topology.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > kMaxTopologyFileBytes))
    return setError(tuttiInvalidArgument,
                    "topology file '%s' is not a regular file of at most 64 MiB", path.c_str());
  std::ifstream f(path, std::ios::binary);
  if (!f) return setError(tuttiInvalidArgument, "cannot open topology file '%s'", path.c_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  *text = ss.str();
  return tuttiSuccess;
}

Result parseDocument(const std::string& text, const std::string& source, const std::string& baseDir,
                     int depth, Topology* out);

Result parseCluster(const Checker& ck, const JsonValue& c, const std::string& baseDir, int depth,
                    Topology* t) {
  std::vector<const JsonValue*> groups;
  if (c.kind == Kind::kObject)
    groups.push_back(&c);
  else if (c.kind == Kind::kArray)
    for (const JsonValue& g : c.items) groups.push_back(&g);
  else
    return ck.fail(c, "'cluster' must be an object or an array of objects");
  if (groups.empty()) return ck.fail(c, "'cluster' lists no nodes");
  for (const JsonValue* g : groups) {
    if (g->kind != Kind::kObject) return ck.fail(*g, "a cluster group must be an object");
    TUTTI_TRY(ck.onlyFields(*g, "cluster", {"nodes", "node_file"}));
    int count = 0;
    std::string file;
    TUTTI_TRY(ck.integer(*g, "cluster", "nodes", true, 1, 1 << 16, &count));
    TUTTI_TRY(ck.string(*g, "cluster", "node_file", true, &file));
    std::string path = !file.empty() && file[0] == '/' ? file : baseDir + "/" + file;
    std::string text;
    if (readFile(path, &text) != tuttiSuccess)
      return ck.fail(*g->get("node_file"), "cluster: cannot open node file '%s'", path.c_str());
    Topology host;
    TUTTI_CHECK(parseDocument(text, path, dirOf(path), depth + 1, &host), "node file of %s",
                ck.source().c_str());
    if (host.numHosts() != 1)
      return ck.fail(*g->get("node_file"), "cluster: node file '%s' must describe one host, not %d",
                     path.c_str(), host.numHosts());
    Topology copies;
    TUTTI_TRY(replicateHosts(host, count, &copies));
    appendHosts(copies, t);
  }
  return tuttiSuccess;
}

Result parseDocument(const std::string& text, const std::string& source, const std::string& baseDir,
                     int depth, Topology* out) {
  JsonValue root;
  TUTTI_TRY(parseJson(text, source, &root));
  Checker ck(source);
  if (root.kind != Kind::kObject) return ck.fail(root, "a topology file holds one JSON object");
  TUTTI_TRY(ck.onlyFields(root, "topology",
                          {"tutti_topology", "name", "nodes", "links", "hosts", "cluster", "net"}));
  int version = 0;
  TUTTI_TRY(ck.integer(root, "topology", "tutti_topology", true, 1, 1000, &version));
  if (version != kTopologyFormatVersion)
    return ck.fail(*root.get("tutti_topology"),
                   "format version %d is not supported (this build reads %d)", version,
                   kTopologyFormatVersion);
  Topology t;
  TUTTI_TRY(ck.string(root, "topology", "name", false, &t.name));
  if (const JsonValue* net = root.get("net")) {
    if (net->kind != Kind::kObject) return ck.fail(*net, "'net' must be an object");
    TUTTI_TRY(ck.onlyFields(*net, "net", {"latency_us"}));
    TUTTI_TRY(ck.positive(*net, "net", "latency_us", false, &t.netLatencyUs));
  }
  const int forms = (root.get("nodes") != nullptr) + (root.get("hosts") != nullptr) +
                    (root.get("cluster") != nullptr);
  if (forms != 1)
    return ck.fail(root,
                   "a topology file has exactly one of 'nodes' (one host), 'hosts' or 'cluster'");
  if (root.get("links") && !root.get("nodes"))
    return ck.fail(*root.get("links"), "'links' belongs next to 'nodes' (or inside a host)");
  if (root.get("nodes")) {
    t.hostNames.push_back(t.name);
    TUTTI_TRY(parseHost(ck, root, 0, &t));
  } else if (const JsonValue* hosts = root.get("hosts")) {
    if (hosts->kind != Kind::kArray || hosts->items.empty())
      return ck.fail(*hosts, "'hosts' must be a non-empty array of host objects");
    int h = 0;
    for (const JsonValue& host : hosts->items) {
      if (host.kind != Kind::kObject) return ck.fail(host, "a host must be an object");
      TUTTI_TRY(ck.onlyFields(host, "host", {"name", "nodes", "links"}));
      std::string name;
      TUTTI_TRY(ck.string(host, "host", "name", false, &name));
      t.hostNames.push_back(name);
      TUTTI_TRY(parseHost(ck, host, h++, &t));
    }
  } else {
    if (depth > 0) return ck.fail(*root.get("cluster"), "a node file cannot itself be a cluster");
    TUTTI_TRY(parseCluster(ck, *root.get("cluster"), baseDir, depth, &t));
  }
  TUTTI_CHECK(t.finalize(), "%s", source.c_str());
  *out = std::move(t);
  return tuttiSuccess;
}

void writeNode(std::ostringstream& os, const TopoNode& n) {
  os << "{\"id\": " << jsonQuote(n.id) << ", \"type\": \"" << nodeTypeName(n.type) << "\"";
  if (!n.model.empty()) os << ", \"model\": " << jsonQuote(n.model);
  switch (n.type) {
    case NodeType::kGpu:
      if (n.dev >= 0) os << ", \"dev\": " << n.dev;
      if (!n.busId.empty()) os << ", \"bus_id\": " << jsonQuote(n.busId);
      if (n.numa >= 0) os << ", \"numa\": " << n.numa;
      if (!n.noP2p.empty()) {
        os << ", \"no_p2p\": [";
        for (size_t i = 0; i < n.noP2p.size(); ++i) os << (i ? ", " : "") << jsonQuote(n.noP2p[i]);
        os << "]";
      }
      break;
    case NodeType::kCpu:
      if (n.numa >= 0) os << ", \"numa\": " << n.numa;
      if (n.cores > 0) os << ", \"cores\": " << n.cores;
      break;
    case NodeType::kPciSwitch:
      if (!n.busId.empty()) os << ", \"bus_id\": " << jsonQuote(n.busId);
      break;
    case NodeType::kNic:
      if (!n.busId.empty()) os << ", \"bus_id\": " << jsonQuote(n.busId);
      if (n.numa >= 0) os << ", \"numa\": " << n.numa;
      if (n.dev >= 1) os << ", \"port\": " << n.dev;
      os << ", \"speed_gbps\": " << jsonNumber(n.speedGbps > 0 ? n.speedGbps : 1);
      if (n.rdma) os << ", \"rdma\": true";
      if (n.gdr) os << ", \"gdr\": true";
      if (!n.netdev.empty()) os << ", \"netdev\": " << jsonQuote(n.netdev);
      break;
    default: break;
  }
  os << "}";
}

void writeLink(std::ostringstream& os, const Topology& t, const TopoLink& l) {
  os << "{\"a\": " << jsonQuote(t.nodes[l.a].id) << ", \"b\": " << jsonQuote(t.nodes[l.b].id)
     << ", \"type\": \"" << linkTypeName(l.type) << "\"";
  bool bwImplied = false;
  if (l.type == LinkType::kNvLink) {
    os << ", \"count\": " << l.count << ", \"link_bw\": " << jsonNumber(l.bw / l.count);
    bwImplied = true;
  } else if (l.type == LinkType::kPcie && l.gen && l.width) {
    os << ", \"gen\": " << l.gen << ", \"width\": " << l.width;
    bwImplied = std::fabs(pcieBandwidth(l.gen, l.width) - l.bw) < 1e-9;
  }
  if (!bwImplied) os << ", \"bw\": " << jsonNumber(l.bw);
  if (std::fabs(l.latUs - defaultLinkLatencyUs(l.type)) > 1e-12)
    os << ", \"latency_us\": " << jsonNumber(l.latUs);
  os << "}";
}

void writeHost(std::ostringstream& os, const Topology& t, const HostInfo& h, const char* indent) {
  os << indent << "\"nodes\": [\n";
  bool first = true;
  for (int i = h.firstNode; i < h.endNode; ++i) {
    os << (first ? "" : ",\n") << indent << "  ";
    writeNode(os, t.nodes[i]);
    first = false;
  }
  os << "\n" << indent << "],\n" << indent << "\"links\": [\n";
  first = true;
  for (const TopoLink& l : t.links) {
    if (l.type == LinkType::kNet || t.nodes[l.a].host != t.nodes[h.firstNode].host) continue;
    os << (first ? "" : ",\n") << indent << "  ";
    writeLink(os, t, l);
    first = false;
  }
  os << "\n" << indent << "]";
}

}  // namespace

Result parseTopologyText(const std::string& text, const std::string& source,
                         const std::string& baseDir, Topology* out) {
  return parseDocument(text, source, baseDir, 0, out);
}

Result loadTopologyFile(const std::string& path, Topology* out) {
  std::string text;
  TUTTI_TRY(readFile(path, &text));
  return parseDocument(text, path, dirOf(path), 0, out);
}

std::string topologyToJson(const Topology& t) {
  std::ostringstream os;
  os << "{\n  \"tutti_topology\": " << kTopologyFormatVersion << ",\n";
  os << "  \"name\": " << jsonQuote(t.name) << ",\n";
  if (t.numHosts() > 1)
    os << "  \"net\": {\"latency_us\": " << jsonNumber(t.netLatencyUs) << "},\n";
  if (t.numHosts() == 1) {
    writeHost(os, t, t.hosts[0], "  ");
    os << "\n}\n";
    return os.str();
  }
  os << "  \"hosts\": [\n";
  for (int h = 0; h < t.numHosts(); ++h) {
    os << "    {\n      \"name\": " << jsonQuote(t.hosts[h].name) << ",\n";
    writeHost(os, t, t.hosts[h], "      ");
    os << "\n    }" << (h + 1 < t.numHosts() ? "," : "") << "\n";
  }
  os << "  ]\n}\n";
  return os.str();
}

Result saveTopologyFile(const Topology& t, const std::string& path) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return setError(tuttiSystemError, "cannot write topology file '%s'", tmp.c_str());
    f << topologyToJson(t);
    if (!f.good())
      return setError(tuttiSystemError, "writing topology file '%s' failed", tmp.c_str());
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return setError(tuttiSystemError, "cannot rename '%s' to '%s'", tmp.c_str(), path.c_str());
  }
  return tuttiSuccess;
}

}  // namespace tutti
