//! Parquet through the Apache Arrow crates: one column per [`Column`], typed by its [`Kind`]
//! (dates as DATE, recorded times as UTC TIMESTAMP in microseconds, seqs as INT64, polarity as
//! INT8, closed vocabularies dictionary-encoded, lists as LIST), Snappy-compressed, written in
//! row groups of [`ROWS_PER_BATCH`] rows so a long answer is never held whole.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Int8Builder, Int64Builder, ListBuilder, StringBuilder,
    StringDictionaryBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::OUTPUT_VERSION;
use super::columns::{Cell, Column, Kind};
use crate::core::Day;

/// Rows per Arrow record batch (and so at most per Parquet row group).
pub const ROWS_PER_BATCH: usize = 65_536;

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Dict => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        Kind::Int8 => DataType::Int8,
        Kind::Int64 => DataType::Int64,
        Kind::Bool => DataType::Boolean,
        Kind::Date => DataType::Date32,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        Kind::IntList => DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
    }
}

/// 1970-01-01 counted as [`Day::days_from_ce`] counts.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Days from 1970-01-01 (Parquet DATE).
fn epoch_days(d: Day) -> i32 {
    d.days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// The Arrow array of one column over some rows. A cell of the wrong shape for its kind (a
/// bug in a column's definition) is written as null.
fn array(kind: Kind, cells: &[Cell<'_>]) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, $pat:pat => $value:expr) => {{
            let mut b = $builder;
            for c in cells {
                match c {
                    $pat => b.append_value($value),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match kind {
        Kind::Text => build!(StringBuilder::new(), Cell::Text(t) => t),
        Kind::Dict => build!(StringDictionaryBuilder::<Int32Type>::new(), Cell::Text(t) => t),
        Kind::Int8 => build!(Int8Builder::new(), Cell::Int(n) => i8::try_from(*n).unwrap_or(0)),
        Kind::Int64 => build!(Int64Builder::new(), Cell::Int(n) => *n),
        Kind::Bool => build!(BooleanBuilder::new(), Cell::Bool(v) => *v),
        Kind::Date => build!(Date32Builder::new(), Cell::Date(d) => epoch_days(*d)),
        Kind::Timestamp => build!(
            TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            Cell::Timestamp(t) => t.as_microsecond()
        ),
        Kind::TextList => {
            build!(ListBuilder::new(StringBuilder::new()), Cell::Texts(v) => v.iter().map(|x| x.as_deref()))
        }
        Kind::IntList => {
            build!(ListBuilder::new(Int64Builder::new()), Cell::Ints(v) => v.iter().map(|n| Some(*n)))
        }
    }
}

/// Writes `rows` as a Parquet file with the columns `cols` to `out`. The file's key-value
/// metadata carries `stancelog.output_version`.
///
/// # Errors
/// Arrow's and Parquet's errors (I/O included), as text.
pub fn write_parquet<R, W: Write + Send>(
    out: W,
    cols: &[Column<R>],
    rows: impl Iterator<Item = R>,
) -> Result<(), String> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(c.name.as_str(), data_type(c.kind), true))
            .collect::<Vec<_>>(),
    ));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "stancelog.output_version".to_string(),
            OUTPUT_VERSION.to_string(),
        )]))
        .build();
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut w = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(|e| err(&e))?;
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<R> = rows.by_ref().take(ROWS_PER_BATCH).collect();
        let arrays: Vec<ArrayRef> = cols
            .iter()
            .map(|c| {
                let cells: Vec<Cell<'_>> = chunk.iter().map(|r| (c.get)(r)).collect();
                array(c.kind, &cells)
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| err(&e))?;
        w.write(&batch).map_err(|e| err(&e))?;
    }
    w.close().map_err(|e| err(&e))?;
    Ok(())
}
