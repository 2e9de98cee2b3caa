// SPDX-License-Identifier: Apache-2.0
// Where a loaded row goes: its partition (RANGE / LIST on one or more columns) and its bucket
// (a stable hash of the distribution columns), computed a column at a time.
#pragma once

#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"
#include "storage/error.hh"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace tv::storage {

// ---- Bucket hash. Defined once and forever: a row stays in the bucket it was loaded into.
//
// h = 0; for each distribution column, in the order of DISTRIBUTED BY:
//     h = XXH3_64bits_withSeed(canonical bytes of the value, h)
//     or, for NULL, h = XXH3_64bits_withSeed(no bytes, h ^ bucket_null_marker)
// bucket = h % buckets.
// Canonical bytes: the physical value's little-endian bytes as segment files store them
// (BOOLEAN 1 byte 0/1, TINYINT 1, SMALLINT 2, INT and DATE 4, BIGINT and DATETIME 8, LARGEINT
// and DECIMAL 16 of the unscaled value, FLOAT 4 and DOUBLE 8 with -0.0 as +0.0 and every NaN as
// the canonical quiet NaN), and the bytes of a string.

inline constexpr uint64_t bucket_null_marker = 0x6e756c6c;  // "null"

/// Folds one value into a row hash (row-at-a-time form of hash_column).
uint64_t hash_value(const cell& value, uint64_t seed);
/// Folds every row's value of `col` into hashes[row] (hashes.size() == col.size()).
void hash_column(const column_vector& col, std::span<uint64_t> hashes);
/// The bucket of a row whose distribution columns hold `values`.
uint32_t bucket_of(std::span<const cell> values, uint32_t buckets);

/// Routes rows to partitions. Built once per load from the catalog's partitions (whose
/// bounds and values are normalized text, parsed here once).
class partition_router {
public:
    /// `kind` and `columns` (indices into the rows' schema) from the table's partition_info;
    /// `partitions` are the table's; rows may only go to those with `allowed[i]` true.
    /// Fails with corrupt_metadata when a bound does not parse (the message says which value).
    static storage_result<partition_router> make(partition_kind kind, std::vector<size_t> columns,
                                                 std::vector<column_type> types,
                                                 const std::vector<const partition*>& partitions,
                                                 std::vector<bool> allowed);

    /// The partition (index into make's `partitions`) of every row. A row in no partition, or
    /// in one not allowed, fails with bad_definition and StarRocks' message naming its
    /// partition key:
    /// "The row is out of partition ranges. Please add a new partition. Partition key: (2024-05-01)".
    storage_result<std::vector<uint32_t>> route(const column_batch& rows) const;

private:
    struct bound_value {
        int rank = 0;  // -1 MINVALUE, 0 a value, 1 MAXVALUE
        int128 i = 0;
        double f = 0;
        std::string s;
    };
    using bound = std::vector<bound_value>;
    struct range_entry {
        bound lower;
        bound upper;
        uint32_t partition = 0;
    };

    std::string row_key_text(const column_batch& rows, size_t row) const;
    std::string list_key(const column_batch& rows, size_t row, bool& has_null) const;

    partition_kind _kind = partition_kind::none;
    std::vector<size_t> _columns;
    std::vector<column_type> _types;
    std::vector<bool> _allowed;
    std::vector<range_entry> _ranges;                    // sorted by upper bound
    std::unordered_map<std::string, uint32_t> _values;   // LIST: encoded key -> partition

    // One partition column of an integer type up to 64 bits (INT, BIGINT, DATE, DATETIME...):
    // bounds as plain numbers, MINVALUE (and NULL) as the lowest, MAXVALUE as the highest.
    bool _fast = false;
    std::vector<int128> _fast_lower;  // per range, in _ranges order
    std::vector<int128> _fast_upper;
    std::unordered_map<int64_t, uint32_t> _fast_values;  // LIST
    storage_error outside(const column_batch& rows, size_t row) const;
    template <class T>
    storage_result<std::vector<uint32_t>> route_fast(const column_batch& rows) const;
};

}  // namespace tv::storage
