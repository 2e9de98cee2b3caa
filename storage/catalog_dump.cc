// SPDX-License-Identifier: Apache-2.0
// catalog::dump(): every field of the state as stable text. Written field by field rather than
// from the image's JSON, so that a field the image forgot shows up as a difference in tests.
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <xxhash.h>

namespace tv::storage {

namespace {

std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : ", ") + items[i];
    }
    return out + "]";
}

std::string props_text(const properties& props) {
    std::string out = "{";
    for (size_t i = 0; i < props.size(); ++i) {
        out += fmt::format("{}{:?}={:?}", i == 0 ? "" : ", ", props[i].first, props[i].second);
    }
    return out + "}";
}

std::string ids_text(const std::vector<object_id>& ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : ",", ids[i]);
    }
    return out + "]";
}

std::string dist_text(const distribution& d) {
    return fmt::format("{} buckets={}", d.random ? "RANDOM" : "HASH" + list(d.columns), d.buckets);
}

void dump_column(std::string& out, std::string_view indent, const column& c) {
    out += fmt::format("{}column {:?} {} {}", indent, c.name, c.type.to_sql(), c.nullable ? "NULL" : "NOT NULL");
    if (c.is_key) {
        out += " key";
    }
    if (c.agg != aggregation::none) {
        out += fmt::format(" {}", aggregation_name(c.agg));
    }
    if (c.default_value) {
        const char* kinds[] = {"literal", "null", "current_timestamp"};
        out += fmt::format(" default={}:{:?}", kinds[static_cast<int>(c.default_value->kind)], c.default_value->text);
    }
    out += fmt::format(" comment={:?}\n", c.comment);
}

void dump_partition(std::string& out, const partition& p, partition_kind kind) {
    out += fmt::format("    partition {:?} id={} version={} buckets={}", p.name, p.id, p.visible_version, p.buckets);
    if (kind == partition_kind::range) {
        out += fmt::format(" range=[{}, {})", list(p.lower), list(p.upper));
    }
    for (const auto& tuple : p.values) {
        out += fmt::format(" in{}", list(tuple));
    }
    for (const auto& tablets : p.tablets) {
        out += fmt::format(" tablets[{}]={}", tablets.index_id, ids_text(tablets.tablet_ids));
    }
    out += "\n";
}

void dump_table(std::string& out, const table& t) {
    const char* kinds[] = {"none", "range", "list"};
    out += fmt::format("  table {:?} id={} {}{} partition_by={}{} dist={} props={} comment={:?}\n", t.name, t.id,
                       key_model_name(t.keys), list(t.key_columns),
                       kinds[static_cast<int>(t.partitioning.kind)], list(t.partitioning.columns), dist_text(t.dist),
                       props_text(t.props), t.comment);
    for (const auto& c : t.columns) {
        dump_column(out, "    ", c);
    }
    for (const auto& index : t.indexes) {
        out += fmt::format("    index {:?} id={} query={:?}\n", index.name, index.id, index.query_text);
        for (const auto& c : index.columns) {
            dump_column(out, "      ", c);
        }
    }
    for (const auto& p : t.partitioning.partitions) {
        dump_partition(out, p, t.partitioning.kind);
    }
}

void dump_function(std::string& out, std::string_view indent, const function& f) {
    const char* kinds[] = {"scalar", "aggregate", "table"};
    out += fmt::format("{}function {} id={} kind={} returns={} intermediate={:?} global={} props={}\n", indent,
                       f.signature(), f.id, kinds[static_cast<int>(f.kind)], f.return_type, f.intermediate_type,
                       f.global, props_text(f.props));
}

}  // namespace

std::string catalog::dump() const {
    std::string out = fmt::format("next_id {}\n", _state.next_id);
    for (const auto& [_, d] : _state.databases) {
        out += fmt::format("database {:?} id={} props={}\n", d.name, d.id, props_text(d.props));
        for (const auto& [_, t] : d.tables) {
            dump_table(out, t);
        }
        for (const auto& [_, v] : d.views) {
            out += fmt::format("  view {:?} id={} query={:?} comment={:?}\n", v.name, v.id, v.query_text, v.comment);
            for (const auto& c : v.columns) {
                out += fmt::format("    column {:?} comment={:?}\n", c.name, c.comment);
            }
        }
        for (const auto& [_, mv] : d.mvs) {
            out += fmt::format("  materialized_view {:?} id={} query={:?} refresh={:?}/{:?}/{:?} dist={} "
                               "partition_by={:?} props={} comment={:?} active={} reason={:?} bases={}\n",
                               mv.name, mv.id, mv.query_text, mv.refresh.mode, mv.refresh.start, mv.refresh.interval,
                               dist_text(mv.dist), mv.partition_expr, props_text(mv.props), mv.comment, mv.active,
                               mv.inactive_reason, list(mv.base_tables));
            for (const auto& c : mv.columns) {
                dump_column(out, "    ", c);
            }
            if (!mv.columns.empty()) {
                dump_partition(out, mv.storage, partition_kind::none);
            }
        }
        for (const auto& [label, ms] : d.load_labels) {
            out += fmt::format("  label {:?} at={}\n", label, ms);
        }
        for (const auto& f : d.functions) {
            dump_function(out, "  ", f);
        }
    }
    for (const auto& f : _state.global_functions) {
        dump_function(out, "", f);
    }
    for (const auto& [_, c] : _state.catalogs) {
        out += fmt::format("catalog {:?} id={} comment={:?} props={}\n", c.name, c.id, c.comment, props_text(c.props));
    }
    for (const auto& [tablet, rowsets] : _state.tablet_rowsets) {
        for (const auto& rs : rowsets) {
            out += fmt::format("tablet {} rowset id={} version={}", tablet, rs.id, rs.version);
            for (const auto& f : rs.files) {
                out += fmt::format(" {}:size={}:rows={}:checksum={:016x}", f.name, f.size, f.rows, f.checksum);
            }
            out += "\n";
        }
    }
    for (const auto& [_, r] : _state.repositories) {
        // Property values may be secrets (keys, tokens) and dumps end up in logs and test
        // output: names only. The image has them; the dump says they are there.
        std::string props = "{";
        for (size_t i = 0; i < r.props.size(); ++i) {
            props += fmt::format("{}{:?}=\"******\"", i == 0 ? "" : ", ", r.props[i].first);
        }
        props += "}";
        out += fmt::format("repository {:?} id={} created={} read_only={} location={:?} broker={:?} props={}\n", r.name,
                           r.id, r.create_time_ms, r.read_only, r.location, r.broker, props);
    }
    for (const auto& [_, u] : _state.users) {
        // A fingerprint, not the hash: dumps end up in logs and test output.
        auto fingerprint = u.password_hash.empty() ? std::string("none")
                                                   : fmt::format("{:08x}", static_cast<uint32_t>(XXH3_64bits(
                                                                               u.password_hash.data(),
                                                                               u.password_hash.size())));
        out += fmt::format("user {} password={} roles={}", u.identity(), fingerprint,
                           list(std::vector<std::string>(u.roles.begin(), u.roles.end())));
        for (const auto& g : u.grants) {
            out += fmt::format(" {}:{}.{}", privilege_name(g.priv), g.db, g.table);
        }
        out += "\n";
    }
    return out;
}

}  // namespace tv::storage
