#include "compiler/sema/analyzer.h"

#include <algorithm>
#include <filesystem>

#include "compiler/support/spelling.h"

namespace amlc::compiler::sema {

namespace {

// "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json" -> "commandJob";
// "../../specs/image.schema.json" -> "image"; "http://azureml/sdk-2-0/DataImport.json" -> "DataImport".
std::string SchemaStem(const std::string& url) {
  std::string base = url.substr(url.find_last_of('/') + 1);
  for (const char* suffix : {".schema.json", ".json", ".yaml", ".yml"}) {
    std::string_view s(suffix);
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      return base.substr(0, base.size() - s.size());
    }
  }
  return base;
}

std::string ScalarText(const ir::Value* value) {
  if (!value) return "";
  if (value->is_string()) return value->as_string();
  if (value->type() == ir::Value::Type::kInt) return std::to_string(value->as_int());
  if (value->type() == ir::Value::Type::kDouble) return value->ToJson();
  return "";
}

}  // namespace

void Analyzer::DeclareFile(const std::string& path) {
  for (size_t document : specs_.Load(path)) DeclareDocument(document);
}

const KindSchema* Analyzer::ClassifyBySchema(const ast::Node& schema_node) {
  std::string stem = SchemaStem(schema_node.text);
  if (const KindSchema* kind = registry_.FindBySchemaName(stem)) return kind;
  if (const UnsupportedShape* shape = registry_.FindUnsupported(stem)) {
    diagnostics_.Warning(DiagCode::kUnsupported, schema_node.range,
                         "'" + stem + "' specs are not supported: " + shape->reason)
        .Hint("amlc skips this file");
    return nullptr;
  }
  diagnostics_
      .Error(DiagCode::kUnknownKind, schema_node.range,
             "unknown schema '" + stem + "'" + DidYouMean(stem, registry_.SchemaNames()))
      .Hint("use an Azure ML CLI v2 schema URL or one of amlc's specs/*.schema.json");
  return nullptr;
}

const KindSchema* Analyzer::ClassifyByType(const ast::Document& document,
                                           const ast::Node& type_node) {
  if (const KindSchema* kind = registry_.FindByType(type_node.text)) return kind;
  if (const UnsupportedShape* shape = registry_.FindUnsupportedType(type_node.text)) {
    diagnostics_.Warning(DiagCode::kUnsupported, type_node.range,
                         "'" + type_node.text + "' specs are not supported: " + shape->reason)
        .Hint("amlc skips this document");
    return nullptr;
  }
  std::vector<std::string> types;
  for (const KindSchema& kind : registry_.kinds()) {
    types.insert(types.end(), kind.type_values.begin(), kind.type_values.end());
  }
  diagnostics_
      .Error(DiagCode::kUnknownKind, type_node.range,
             "unknown type '" + type_node.text + "'" + DidYouMean(type_node.text, types))
      .Hint("add a $schema line naming the kind");
  return nullptr;
}

const KindSchema* Analyzer::Classify(const ast::Document& document) {
  const ast::Node& body = document.body;
  if (!document.dsl_kind.empty()) {
    const ast::Node* type = body.Find("type");
    std::string type_text = type && type->is_scalar() ? type->text : "";
    if (!type_text.empty() && registry_.FindUnsupportedType(type_text)) {
      return ClassifyByType(document, *type);
    }
    if (const KindSchema* kind = registry_.FindByKind(document.dsl_kind, type_text)) return kind;
    diagnostics_
        .Error(DiagCode::kUnknownKind, document.kind_range,
               "unknown kind '" + document.dsl_kind + "'" +
                   DidYouMean(document.dsl_kind, registry_.KindNames()))
        .Hint("a block starts with a kind: job, model, compute, environment, deployment, ...");
    return nullptr;
  }
  if (!body.is_mapping()) {
    diagnostics_.Warning(DiagCode::kNotASpec, body.range,
                         "not a spec: the document is not a mapping; skipped");
    return nullptr;
  }
  if (const ast::Node* schema = body.Find("$schema"); schema && schema->is_scalar()) {
    return ClassifyBySchema(*schema);
  }
  if (const ast::Node* type = body.Find("type"); type && type->is_scalar()) {
    return ClassifyByType(document, *type);
  }
  // A conda environment file beside the specs is data, not a spec.
  if (body.Find("dependencies") || body.Find("channels")) return nullptr;
  // No $schema and no type: take the one kind whose fields cover the document.
  const KindSchema* match = nullptr;
  int matches = 0;
  for (const KindSchema& kind : registry_.kinds()) {
    bool fits = std::all_of(body.entries.begin(), body.entries.end(), [&](const ast::Entry& e) {
      return kind.root->Property(e.key) != nullptr;
    });
    fits = fits && std::all_of(kind.root->required.begin(), kind.root->required.end(),
                               [&](const std::string& name) { return body.Find(name); });
    if (fits && (!match || match->kind != kind.kind)) {
      match = &kind;
      ++matches;
    }
  }
  if (matches == 1) return match;
  diagnostics_
      .Warning(DiagCode::kNotASpec, body.range,
               "not recognized as a spec: no $schema or type field; skipped")
      .Hint("add `$schema:` with an Azure ML schema URL or one of amlc's specs/*.schema.json");
  return nullptr;
}

std::string Analyzer::DefaultName(const std::string& spec_file) const {
  return std::filesystem::path(spec_file).stem().string();
}

void Analyzer::DeclareDocument(size_t document_index) {
  const ast::Document& document = specs_.document(document_index);
  const KindSchema* kind = Classify(document);
  if (!kind) return;

  Declared declared;
  declared.schema = kind;
  declared.body = &document.body;
  declared.spec_file = specs_.path_of(document_index);
  Binder binder(tree_, declared.spec_file, diagnostics_);
  ir::Value spec = binder.Bind(document.body, *kind->root, "");
  declared.refs = std::move(binder.refs());

  ir::Resource& resource = declared.resource;
  resource.kind = kind->kind;
  resource.range = document.kind_range.valid() ? document.kind_range : document.body.range;
  resource.name = ScalarText(spec.Find("name"));
  if (resource.name.empty()) {
    if (kind->root->Property("name") && !kind->root->required.empty() &&
        std::find(kind->root->required.begin(), kind->root->required.end(), "name") !=
            kind->root->required.end()) {
      return;  // the binder reported the missing name
    }
    resource.name = DefaultName(declared.spec_file);
  }
  if (kind->versioned) resource.version = ScalarText(spec.Find("version"));
  resource.type = !kind->type.empty() ? kind->type : ScalarText(spec.Find("type"));
  if (resource.kind == "job" && !spec.Find("experiment_name")) {
    spec.Set("experiment_name", ir::Value::Reference({"experiment/" + resource.name, "", true}));
    PendingRef experiment;
    experiment.kind = "experiment";
    experiment.name = resource.name;
    experiment.field = "experiment_name";
    experiment.range = document.body.range;
    experiment.location = {"experiment_name"};
    declared.refs.push_back(std::move(experiment));
  }
  ir::Value::Map trimmed;
  for (auto& [key, value] : spec.entries()) {
    if (key != "name" && key != "version") trimmed.emplace_back(key, value);
  }
  resource.spec = ir::Value::EmptyMap();
  for (auto& [key, value] : trimmed) resource.spec.Set(key, std::move(value));

  size_t index = Register(std::move(declared));
  if (index != SIZE_MAX && declared_[index].resource.kind == "job" &&
      declared_[index].resource.type == "pipeline") {
    SplitPipelineSteps(index);
  }
}

size_t Analyzer::Register(Declared declared) {
  std::string id = declared.resource.id();
  const ast::Node* name_node = declared.body->Find("name");
  if (name_node) declared.resource.range = name_node->range;
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    diagnostics_
        .Error(DiagCode::kDuplicate, declared.resource.range,
               "duplicate " + declared.resource.kind + " '" + declared.resource.name +
                   (declared.resource.version.empty() ? "" : ":" + declared.resource.version) + "'")
        .Note(declared_[it->second].resource.range, "first defined here")
        .Hint("names are unique per kind; rename one of them");
    return SIZE_MAX;
  }
  size_t index = declared_.size();
  by_id_.emplace(id, index);
  by_kind_name_[declared.resource.kind + "/" + declared.resource.name].push_back(index);
  by_file_[declared.spec_file].push_back(index);
  declared_.push_back(std::move(declared));
  return index;
}

void Analyzer::SplitPipelineSteps(size_t pipeline) {
  const ast::Node* jobs_node = declared_[pipeline].body->Find("jobs");
  const ir::Value* jobs_value = declared_[pipeline].resource.spec.Find("jobs");
  if (!jobs_value || !jobs_value->is_map() || !jobs_node) return;
  // Copies: registering steps grows declared_, which moves what it holds.
  const ir::Value jobs = *jobs_value;
  const Declared parent = declared_[pipeline];
  std::vector<PendingRef> parent_refs;
  std::vector<Declared> steps;
  for (const auto& [step_name, step_spec] : jobs.entries()) {
    const ast::Entry* entry = nullptr;
    for (const ast::Entry& e : jobs_node->entries) {
      if (e.key == step_name) entry = &e;
    }
    if (!entry) continue;
    std::string step_type = ScalarText(step_spec.Find("type"));
    if (step_type.empty()) step_type = "command";
    if (const UnsupportedShape* shape = registry_.FindUnsupported("pipelineJob/" + step_type)) {
      diagnostics_.Warning(DiagCode::kUnsupported, entry->key_range,
                           "step '" + step_name + "': " + shape->reason)
          .Hint("the step is recorded but amlc will not run it");
    }
    Declared step;
    step.schema = parent.schema;
    step.body = &entry->value;
    step.spec_file = parent.spec_file;
    step.resource.kind = "job";
    step.resource.type = step_type;
    step.resource.name = parent.resource.name + "/" + step_name;
    step.resource.parent = parent.resource.id();
    step.resource.spec = step_spec;
    step.resource.range = entry->key_range;
    steps.push_back(std::move(step));
  }
  // References inside a step belong to the step.
  for (const PendingRef& ref : parent.refs) {
    Declared* owner = nullptr;
    if (ref.location.size() > 2 && ref.location[0] == "jobs") {
      for (Declared& step : steps) {
        if (step.resource.name == parent.resource.name + "/" + ref.location[1]) owner = &step;
      }
    }
    if (!owner) {
      parent_refs.push_back(ref);
      continue;
    }
    PendingRef moved = ref;
    moved.location.erase(moved.location.begin(), moved.location.begin() + 2);
    owner->refs.push_back(std::move(moved));
  }
  declared_[pipeline].refs = std::move(parent_refs);
  for (Declared& step : steps) {
    PendingRef why;
    why.field = "jobs." + step.resource.name.substr(parent.resource.name.size() + 1);
    why.range = step.resource.range;
    size_t index = Register(std::move(step));
    if (index != SIZE_MAX) declared_[pipeline].edges.emplace_back(index, std::move(why));
  }
}

const ast::Node* Analyzer::FieldNode(size_t index,
                                     std::initializer_list<std::string_view> path) const {
  const ast::Node* node = declared_[index].body;
  for (std::string_view key : path) {
    if (!node || !node->is_mapping()) return nullptr;
    node = node->Find(key);
  }
  return node;
}

SourceRange Analyzer::FieldRange(size_t index, std::initializer_list<std::string_view> path) const {
  const ast::Node* node = FieldNode(index, path);
  return node ? node->range : declared_[index].resource.range;
}

SourceRange Analyzer::KeyRange(size_t index, std::string_view key) const {
  for (const ast::Entry& entry : declared_[index].body->entries) {
    if (entry.key == key) return entry.key_range;
  }
  return declared_[index].resource.range;
}

ir::Graph Analyzer::Finish() {
  ResolveAll();
  // Deployments first: they may take their endpoint from the specs, which
  // the endpoints' traffic checks then see.
  for (size_t i = 0; i < declared_.size(); ++i) {
    if (declared_[i].resource.kind == "deployment") CheckDeployment(i);
  }
  for (size_t i = 0; i < declared_.size(); ++i) {
    CheckExpressions(i);
    CheckValues(i);
  }
  return BuildGraph();
}

std::vector<const ast::Node*> Analyzer::Bodies() const {
  std::vector<const ast::Node*> bodies;
  for (const Declared& declared : declared_) bodies.push_back(declared.body);
  return bodies;
}

ir::Graph Analyzer::BuildGraph() {
  // Everything lives in the workspace, so a declared workspace comes first.
  std::vector<size_t> workspaces;
  for (size_t i = 0; i < declared_.size(); ++i) {
    if (declared_[i].resource.kind == "workspace") workspaces.push_back(i);
  }
  for (size_t i = 1; i < workspaces.size(); ++i) {
    diagnostics_
        .Error(DiagCode::kDuplicate, declared_[workspaces[i]].resource.range,
               "a second workspace '" + declared_[workspaces[i]].resource.name + "'")
        .Note(declared_[workspaces[0]].resource.range, "the workspace of these specs is declared here")
        .Hint("a spec folder describes one workspace; keep other workspaces in folders of their own");
  }
  if (workspaces.size() == 1) {
    for (size_t i = 0; i < declared_.size(); ++i) {
      if (i == workspaces[0] || !declared_[i].resource.parent.empty()) continue;
      PendingRef why;
      why.field = "workspace";
      why.range = declared_[i].resource.range;
      declared_[i].edges.emplace_back(workspaces[0], std::move(why));
    }
  }
  ir::Graph graph;
  for (Declared& declared : declared_) graph.AddResource(std::move(declared.resource));
  for (size_t from = 0; from < declared_.size(); ++from) {
    for (auto& [to, why] : declared_[from].edges) graph.AddDependency(from, to, why.field, why.range);
  }
  for (const std::vector<size_t>& cycle : graph.FindCycles()) {
    const ir::Dependency& first = graph.dependencies()[cycle.front()];
    std::string path = graph.resource(first.from).id();
    for (size_t edge : cycle) path += " -> " + graph.resource(graph.dependencies()[edge].to).id();
    Diagnostic& error = diagnostics_.Error(DiagCode::kCycle, first.range, "dependency cycle: " + path);
    for (size_t edge : cycle) {
      const ir::Dependency& d = graph.dependencies()[edge];
      error.Note(d.range, graph.resource(d.from).id() + " needs " + graph.resource(d.to).id() +
                              " here ('" + d.field + "')");
    }
    error.Hint("break the cycle: a resource cannot depend on itself through others");
  }
  graph.ComputeDigests();
  return graph;
}

}  // namespace amlc::compiler::sema
