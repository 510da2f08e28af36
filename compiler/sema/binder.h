#ifndef AMLC_COMPILER_SEMA_BINDER_H_
#define AMLC_COMPILER_SEMA_BINDER_H_

#include <string>
#include <vector>

#include "compiler/ast/node.h"
#include "compiler/ir/value.h"
#include "compiler/sema/schema.h"
#include "compiler/support/diagnostics.h"
#include "compiler/support/source_tree.h"

namespace amlc::compiler::sema {

/// A reference found while binding, resolved once every resource is known.
/// `location` leads from the resource's spec to the Ref value to patch
/// ("jobs", "train", "#0" for list index 0).
struct PendingRef {
  std::string kind;     // the kind referred to ("compute", "model", "job", "component", "data")
  std::string name;
  std::string version;  // "" = none given
  std::string label;    // "latest" for name@latest
  std::string member;   // "outputs.model" for job outputs
  std::string field;    // the spec field, for messages and graph edge labels
  std::string file;     // component files: the normalized path of the file referred to
  bool from_dsl = false;
  // azureml://jobs/JOB/outputs/artifacts/paths/X: a folder the run logged
  // (mlflow's log_model, autolog), which the job need not declare.
  bool logged_artifact = false;
  SourceRange range;
  std::vector<std::string> location;
};

/// Binds ast nodes to a kind's schema: checks every field's presence, type and
/// value, applies defaults, and produces the typed ir::Value. Problems are
/// reported to the engine and binding goes on, so one pass finds them all.
class Binder {
 public:
  /// `spec_file` is the tree path of the file being bound (local paths in it
  /// are relative to its folder).
  Binder(const SourceTree& tree, std::string spec_file, DiagnosticEngine& diagnostics);

  /// Binds `node` to `schema`. `field` is the dotted path shown in messages.
  /// Returns false in `present` when the node means "unset" (a null field).
  ir::Value Bind(const ast::Node& node, const Schema& schema, const std::string& field,
                 bool* present = nullptr);

  std::vector<PendingRef>& refs() { return refs_; }

  /// Parses "azureml:name:version", "azureml:name@label" or "name" into `ref`.
  static void ParseAssetName(std::string_view text, PendingRef& ref);

 private:
  ir::Value BindScalar(const ast::Node& node, const Schema& schema, const std::string& field,
                       bool* present);
  ir::Value BindMapping(const ast::Node& node, const Schema& schema, const std::string& field);
  ir::Value BindSequence(const ast::Node& node, const Schema& schema, const std::string& field);
  ir::Value BindLocator(const ast::Node& node, const Schema& schema, const std::string& field);
  ir::Value BindDslReference(const ast::Node& node, const Schema& schema,
                             const std::string& field);
  ir::Value BindLocalPath(const ast::Node& node, std::string path, const Schema& schema,
                          const std::string& field);
  void ReportOutsideRoot(const ast::Node& node, const std::string& path, const std::string& host,
                         const std::string& field);
  ir::Value CheckString(const ast::Node& node, const Schema& schema, const std::string& field,
                        std::string text);
  ir::Value CheckNumber(const ast::Node& node, const Schema& schema, const std::string& field,
                        ir::Value value);
  ir::Value Reference(PendingRef ref, const ast::Node& node, const std::string& field);
  const Schema* PickBranch(const ast::Node& node, const Schema& schema) const;
  ir::Value Untyped(const ast::Node& node);
  void TypeError(const ast::Node& node, const Schema& schema, const std::string& field,
                 std::string_view got);

  const SourceTree& tree_;
  std::string spec_file_;
  DiagnosticEngine& diagnostics_;
  std::vector<PendingRef> refs_;
  std::vector<std::string> location_;
  std::vector<std::string> allowed_roots_ = AllowedRoots();  // outside the spec folder
};

/// How a plain scalar reads under YAML 1.2's core schema.
ir::Value InferScalar(const std::string& text);
/// A printable list of the JSON types in a bit set: "integer or string".
std::string DescribeTypes(uint8_t types);

}  // namespace amlc::compiler::sema

#endif  // AMLC_COMPILER_SEMA_BINDER_H_
