// SPDX-License-Identifier: Apache-2.0
// The deterministic stream of catalog changes the journal crash test runs: the child process
// applies it until killed, and the test replays it in-process to know each prefix's state.
#pragma once

#include "storage/catalog.hh"

#include <fmt/format.h>

#include <string>

namespace tv::testing {

/// Change number `i` (from 0) of the stream; every one succeeds on the state the previous
/// ones leave. Blocks of ten: a database, five tables (one range-partitioned), a drop, an
/// added partition, a user, and a view or the drop of an earlier database.
inline io::task<storage::storage_result<void>> crash_stream_op(storage::catalog& c, int i) {
    using namespace tv::storage;
    int block = i / 10;
    int step = i % 10;
    std::string db = fmt::format("d{}", block);
    auto plain = [](auto r) -> storage_result<void> {
        if (!r) {
            return r.error();
        }
        return {};
    };
    if (step == 0) {
        properties props{{"block", std::to_string(block)}};
        co_return plain(co_await c.create_database(db, props));
    }
    if (step >= 1 && step <= 5) {
        table_definition def;
        def.name = fmt::format("t{}", i);
        column k;
        k.name = "k";
        k.nullable = false;
        column v;
        v.name = "v";
        v.type = column_type{type_kind::varchar, 0, 0, 10 + i};
        def.columns = {k, v};
        def.key_columns = {"k"};
        def.dist = distribution{{"k"}, 1 + i % 4, false};
        if (step == 3) {
            def.partition_by = partition_kind::range;
            def.partition_columns = {"k"};
            partition_desc p;
            p.name = "p1";
            p.upper = {"10"};
            def.partitions = {p};
        }
        co_return plain(co_await c.create_table(db, def));
    }
    if (step == 6) {
        co_return co_await c.drop_table(db, fmt::format("t{}", i - 5));
    }
    if (step == 7) {
        partition_desc p;
        p.name = fmt::format("p{}", i);
        p.upper = {"1000"};
        co_return plain(co_await c.add_partition(db, fmt::format("t{}", i - 4), p));
    }
    if (step == 8) {
        co_return co_await c.create_user(fmt::format("u{}", i), "%", native_password_hash(fmt::format("pw{}", i)));
    }
    if (block % 3 == 2) {
        co_return co_await c.drop_database(fmt::format("d{}", block - 1));
    }
    view vw;
    vw.name = fmt::format("v{}", i);
    vw.query_text = fmt::format("SELECT k FROM t{}", i - 7);
    co_return plain(co_await c.create_view(db, vw));
}

}  // namespace tv::testing
