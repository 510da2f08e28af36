// Implementation notes: the only file that includes Boost.Graph. Nodes are
// resource indices (vecS), so the Boost vertex descriptor is the index. Cycles
// are found per strongly connected component (Tarjan, from Boost) and then
// walked by a DFS restricted to that component, which yields the path the
// user sees: a -> b -> c -> a.
#include "compiler/ir/graph.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>

#include <algorithm>
#include <functional>
#include <queue>

#include "base/digest.h"

namespace amlc::compiler::ir {

struct Graph::BoostGraph {
  boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, boost::no_property,
                        boost::property<boost::edge_index_t, size_t>>
      graph;
};

Graph::Graph() : boost_(std::make_unique<BoostGraph>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

std::string Resource::id() const {
  return version.empty() ? kind + "/" + name : kind + "/" + name + ":" + version;
}

size_t Graph::AddResource(Resource resource) {
  size_t index = resources_.size();
  by_id_.emplace(resource.id(), index);
  resources_.push_back(std::move(resource));
  boost::add_vertex(boost_->graph);
  return index;
}

void Graph::AddDependency(size_t from, size_t to, std::string field, SourceRange range) {
  uint64_t key = (static_cast<uint64_t>(from) << 32) | to;
  if (edge_index_.count(key)) return;
  size_t index = dependencies_.size();
  edge_index_.emplace(key, index);
  dependencies_.push_back({from, to, std::move(field), range});
  boost::add_edge(from, to, index, boost_->graph);
}

std::optional<size_t> Graph::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::vector<size_t>> Graph::FindCycles() const {
  const auto& g = boost_->graph;
  std::vector<size_t> component(resources_.size());
  size_t count = boost::strong_components(g, component.data());
  std::vector<size_t> size_of(count, 0);
  for (size_t c : component) ++size_of[c];

  std::vector<std::vector<size_t>> cycles;
  std::vector<bool> reported(count, false);
  auto edge_index = boost::get(boost::edge_index, g);
  for (size_t start = 0; start < resources_.size(); ++start) {
    size_t c = component[start];
    if (reported[c]) continue;
    bool self_loop = false;
    for (auto [e, end] = boost::out_edges(start, g); e != end; ++e) {
      self_loop = self_loop || boost::target(*e, g) == start;
    }
    if (size_of[c] < 2 && !self_loop) continue;
    reported[c] = true;
    // Walk edges inside the component from `start` until we are back at it.
    std::vector<size_t> path;
    std::vector<bool> visited(resources_.size(), false);
    std::function<bool(size_t)> walk = [&](size_t node) -> bool {
      visited[node] = true;
      for (auto [e, end] = boost::out_edges(node, g); e != end; ++e) {
        size_t next = boost::target(*e, g);
        if (component[next] != c) continue;
        path.push_back(edge_index[*e]);
        if (next == start) return true;
        if (!visited[next] && walk(next)) return true;
        path.pop_back();
      }
      return false;
    };
    if (walk(start)) cycles.push_back(path);
  }
  return cycles;
}

std::vector<size_t> Graph::TopologicalOrder() const {
  // Kahn's algorithm, dependencies first, ties broken by id: the order is a
  // function of the graph alone, not of which file declared what first, so a
  // YAML spec and its DSL twin print the same order.
  const auto& g = boost_->graph;
  std::vector<size_t> waiting_on(resources_.size());
  auto by_id_greater = [&](size_t a, size_t b) { return resources_[a].id() > resources_[b].id(); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(by_id_greater)> ready(by_id_greater);
  for (size_t v = 0; v < resources_.size(); ++v) {
    waiting_on[v] = boost::out_degree(v, g);
    if (waiting_on[v] == 0) ready.push(v);
  }
  std::vector<size_t> order;
  order.reserve(resources_.size());
  while (!ready.empty()) {
    size_t done = ready.top();
    ready.pop();
    order.push_back(done);
    for (auto [e, end] = boost::in_edges(done, g); e != end; ++e) {
      size_t user = boost::source(*e, g);
      if (--waiting_on[user] == 0) ready.push(user);
    }
  }
  return order;
}

void Graph::ComputeDigests() {
  for (Resource& resource : resources_) {
    std::string canonical;
    canonical += resource.kind + '\n' + resource.type + '\n' + resource.name + '\n' +
                 resource.version + '\n' + resource.parent + '\n';
    resource.spec.AppendJson(canonical);
    resource.digest = Sha256Hex(canonical);
  }
}

namespace {

std::vector<size_t> SortedById(const Graph& graph) {
  std::vector<std::pair<std::string, size_t>> ids;
  ids.reserve(graph.size());
  for (size_t i = 0; i < graph.size(); ++i) ids.emplace_back(graph.resource(i).id(), i);
  std::sort(ids.begin(), ids.end());
  std::vector<size_t> order;
  order.reserve(ids.size());
  for (auto& [id, index] : ids) order.push_back(index);
  return order;
}

}  // namespace

std::string GraphToJson(const Graph& graph) {
  std::vector<std::vector<size_t>> needs(graph.size());
  for (const Dependency& d : graph.dependencies()) needs[d.from].push_back(d.to);

  std::string out = "{\"resources\":[";
  bool first = true;
  for (size_t index : SortedById(graph)) {
    const Resource& r = graph.resource(index);
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"id\":";
    AppendJsonString(out, r.id());
    out += ",\"kind\":";
    AppendJsonString(out, r.kind);
    out += ",\"type\":";
    AppendJsonString(out, r.type);
    out += ",\"name\":";
    AppendJsonString(out, r.name);
    out += ",\"version\":";
    AppendJsonString(out, r.version);
    if (!r.parent.empty()) {
      out += ",\"parent\":";
      AppendJsonString(out, r.parent);
    }
    out += ",\"digest\":";
    AppendJsonString(out, r.digest);
    std::vector<std::string> dependency_ids;
    for (size_t to : needs[index]) dependency_ids.push_back(graph.resource(to).id());
    std::sort(dependency_ids.begin(), dependency_ids.end());
    out += ",\"depends_on\":[";
    for (size_t i = 0; i < dependency_ids.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(out, dependency_ids[i]);
    }
    out += "],\"spec\":";
    r.spec.AppendJson(out);
    out += '}';
  }
  out += "\n],\"order\":[";
  std::vector<size_t> order = graph.TopologicalOrder();
  for (size_t i = 0; i < order.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, graph.resource(order[i]).id());
  }
  out += "]}\n";
  return out;
}

std::string GraphToDot(const Graph& graph) {
  std::string out = "digraph amlc {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
  for (size_t index : SortedById(graph)) {
    const Resource& r = graph.resource(index);
    out += "  ";
    AppendJsonString(out, r.id());
    std::string label = r.kind + (r.type.empty() ? "" : " (" + r.type + ")") + "\\n" + r.name +
                        (r.version.empty() ? "" : ":" + r.version);
    out += " [label=\"" + label + "\"];\n";
  }
  std::vector<size_t> edges(graph.dependencies().size());
  for (size_t i = 0; i < edges.size(); ++i) edges[i] = i;
  std::sort(edges.begin(), edges.end(), [&](size_t a, size_t b) {
    const Dependency& x = graph.dependencies()[a];
    const Dependency& y = graph.dependencies()[b];
    return std::make_pair(graph.resource(x.to).id(), graph.resource(x.from).id()) <
           std::make_pair(graph.resource(y.to).id(), graph.resource(y.from).id());
  });
  for (size_t i : edges) {
    const Dependency& d = graph.dependencies()[i];
    out += "  ";
    AppendJsonString(out, graph.resource(d.to).id());
    out += " -> ";
    AppendJsonString(out, graph.resource(d.from).id());
    out += " [label=";
    AppendJsonString(out, d.field);
    out += "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace amlc::compiler::ir
