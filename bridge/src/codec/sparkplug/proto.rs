//! The Sparkplug B protobuf types, written by hand with `prost` derives.
//!
//! They mirror eclipse/tahu `sparkplug_b/sparkplug_b.proto` (tag `v1.0.11`,
//! proto2, `package org.eclipse.tahu.protobuf`). The nested messages of
//! `Payload` are flattened to module level (`Payload.Metric` is [`Metric`]);
//! field numbers, wire types and labels are the schema's, so the bytes are the
//! same as those of generated code. Proto2 extension ranges carry nothing here:
//! unknown fields are skipped on decode, as protobuf requires.
//!
//! The schema mirrored (comments ours):
//!
//! ```proto
//! syntax = "proto2";
//! package org.eclipse.tahu.protobuf;
//!
//! message Payload {
//!   message Template {
//!     message Parameter {
//!       optional string name = 1;
//!       optional uint32 type = 2;
//!       oneof value {
//!         uint32 int_value = 3;  uint64 long_value = 4;   float float_value = 5;
//!         double double_value = 6; bool boolean_value = 7; string string_value = 8;
//!         ParameterValueExtension extension_value = 9;
//!       }
//!       message ParameterValueExtension { extensions 1 to max; }
//!     }
//!     optional string version = 1;
//!     repeated Metric metrics = 2;
//!     repeated Parameter parameters = 3;
//!     optional string template_ref = 4;
//!     optional bool is_definition = 5;
//!     extensions 6 to max;
//!   }
//!   message DataSet {
//!     message DataSetValue {
//!       oneof value {
//!         uint32 int_value = 1;  uint64 long_value = 2;   float float_value = 3;
//!         double double_value = 4; bool boolean_value = 5; string string_value = 6;
//!         DataSetValueExtension extension_value = 7;
//!       }
//!       message DataSetValueExtension { extensions 1 to max; }
//!     }
//!     message Row { repeated DataSetValue elements = 1; extensions 2 to max; }
//!     optional uint64 num_of_columns = 1;
//!     repeated string columns = 2;
//!     repeated uint32 types = 3;          // proto2: not packed
//!     repeated Row rows = 4;
//!     extensions 5 to max;
//!   }
//!   message PropertyValue {
//!     optional uint32 type = 1;
//!     optional bool is_null = 2;
//!     oneof value {
//!       uint32 int_value = 3;  uint64 long_value = 4;   float float_value = 5;
//!       double double_value = 6; bool boolean_value = 7; string string_value = 8;
//!       PropertySet propertyset_value = 9;
//!       PropertySetList propertysets_value = 10;
//!       PropertyValueExtension extension_value = 11;
//!     }
//!     message PropertyValueExtension { extensions 1 to max; }
//!   }
//!   message PropertySet { repeated string keys = 1; repeated PropertyValue values = 2; extensions 3 to max; }
//!   message PropertySetList { repeated PropertySet propertyset = 1; extensions 2 to max; }
//!   message MetaData {
//!     optional bool is_multi_part = 1;  optional string content_type = 2;
//!     optional uint64 size = 3;         optional uint64 seq = 4;
//!     optional string file_name = 5;    optional string file_type = 6;
//!     optional string md5 = 7;          optional string description = 8;
//!     extensions 9 to max;
//!   }
//!   message Metric {
//!     optional string name = 1;          // births; DATA may use the alias alone
//!     optional uint64 alias = 2;
//!     optional uint64 timestamp = 3;     // acquisition time, ms since the Unix epoch (UTC)
//!     optional uint32 datatype = 4;      // a DataType number; births only
//!     optional bool is_historical = 5;
//!     optional bool is_transient = 6;
//!     optional bool is_null = 7;
//!     optional MetaData metadata = 8;
//!     optional PropertySet properties = 9;
//!     oneof value {
//!       uint32 int_value = 10;   uint64 long_value = 11;  float float_value = 12;
//!       double double_value = 13; bool boolean_value = 14; string string_value = 15;
//!       bytes bytes_value = 16;  DataSet dataset_value = 17; Template template_value = 18;
//!       MetricValueExtension extension_value = 19;
//!     }
//!     message MetricValueExtension { extensions 1 to max; }
//!   }
//!   optional uint64 timestamp = 1;       // send time, ms since the Unix epoch (UTC)
//!   repeated Metric metrics = 2;
//!   optional uint64 seq = 3;             // 0..=255, one counter per edge node
//!   optional string uuid = 4;
//!   optional bytes body = 5;
//!   extensions 6 to max;
//! }
//!
//! enum DataType {   // the values of Metric.datatype, PropertyValue.type, …
//!   Unknown = 0; Int8 = 1; Int16 = 2; Int32 = 3; Int64 = 4; UInt8 = 5; UInt16 = 6;
//!   UInt32 = 7; UInt64 = 8; Float = 9; Double = 10; Boolean = 11; String = 12;
//!   DateTime = 13; Text = 14; UUID = 15; DataSet = 16; Bytes = 17; File = 18;
//!   Template = 19; PropertySet = 20; PropertySetList = 21; Int8Array = 22;
//!   Int16Array = 23; Int32Array = 24; Int64Array = 25; UInt8Array = 26;
//!   UInt16Array = 27; UInt32Array = 28; UInt64Array = 29; FloatArray = 30;
//!   DoubleArray = 31; BooleanArray = 32; StringArray = 33; DateTimeArray = 34;
//! }
//! ```

use std::fmt;

/// A Sparkplug B message body (`Payload`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    /// Send time, ms since the Unix epoch (UTC).
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// Edge-node sequence number, 0..=255; absent on NDEATH.
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
    /// Names the schema of `body`.
    #[prost(string, optional, tag = "4")]
    pub uuid: Option<String>,
    /// Opaque bytes that bypass the metric model.
    #[prost(bytes = "vec", optional, tag = "5")]
    pub body: Option<Vec<u8>>,
}

/// One metric (`Payload.Metric`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// Name; required in births.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Alias, unique per edge node (fabtwin sends none).
    #[prost(uint64, optional, tag = "2")]
    pub alias: Option<u64>,
    /// Acquisition time, ms since the Unix epoch (UTC).
    #[prost(uint64, optional, tag = "3")]
    pub timestamp: Option<u64>,
    /// A [`DataType`] number; required in births, not sent in DATA.
    #[prost(uint32, optional, tag = "4")]
    pub datatype: Option<u32>,
    /// The value was buffered and is not a live update.
    #[prost(bool, optional, tag = "5")]
    pub is_historical: Option<bool>,
    /// Consumers should not store the metric.
    #[prost(bool, optional, tag = "6")]
    pub is_transient: Option<bool>,
    /// The value is null (and `value` is absent).
    #[prost(bool, optional, tag = "7")]
    pub is_null: Option<bool>,
    /// Metadata (files, multi-part bytes).
    #[prost(message, optional, tag = "8")]
    pub metadata: Option<MetaData>,
    /// Properties (engineering units, ranges …).
    #[prost(message, optional, tag = "9")]
    pub properties: Option<PropertySet>,
    /// The value.
    #[prost(oneof = "MetricValue", tags = "10, 11, 12, 13, 14, 15, 16, 17, 18, 19")]
    pub value: Option<MetricValue>,
}

/// The `value` oneof of [`Metric`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MetricValue {
    /// Int8, Int16, Int32, UInt8, UInt16, UInt32.
    #[prost(uint32, tag = "10")]
    IntValue(u32),
    /// Int64, UInt64, DateTime.
    #[prost(uint64, tag = "11")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "12")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "13")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "14")]
    BooleanValue(bool),
    /// String, Text, UUID.
    #[prost(string, tag = "15")]
    StringValue(String),
    /// Bytes, File, and the array types (packed little-endian).
    #[prost(bytes = "vec", tag = "16")]
    BytesValue(Vec<u8>),
    /// DataSet.
    #[prost(message, tag = "17")]
    DatasetValue(DataSet),
    /// Template.
    #[prost(message, tag = "18")]
    TemplateValue(Template),
    /// Third-party extension.
    #[prost(message, tag = "19")]
    ExtensionValue(MetricValueExtension),
}

/// `Payload.Metric.MetricValueExtension`: extension fields only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricValueExtension {}

/// `Payload.MetaData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaData {
    /// The bytes are one part of several.
    #[prost(bool, optional, tag = "1")]
    pub is_multi_part: Option<bool>,
    /// Media type.
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[prost(uint64, optional, tag = "3")]
    pub size: Option<u64>,
    /// Part number of a multi-part value.
    #[prost(uint64, optional, tag = "4")]
    pub seq: Option<u64>,
    /// File name.
    #[prost(string, optional, tag = "5")]
    pub file_name: Option<String>,
    /// File type.
    #[prost(string, optional, tag = "6")]
    pub file_type: Option<String>,
    /// MD5 of the data.
    #[prost(string, optional, tag = "7")]
    pub md5: Option<String>,
    /// Free text.
    #[prost(string, optional, tag = "8")]
    pub description: Option<String>,
}

/// `Payload.PropertySet`: parallel lists of keys and values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySet {
    /// Property names.
    #[prost(string, repeated, tag = "1")]
    pub keys: Vec<String>,
    /// Property values, one per key.
    #[prost(message, repeated, tag = "2")]
    pub values: Vec<PropertyValue>,
}

/// `Payload.PropertySetList`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertySetList {
    /// The sets.
    #[prost(message, repeated, tag = "1")]
    pub propertyset: Vec<PropertySet>,
}

/// `Payload.PropertyValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertyValue {
    /// A [`DataType`] number.
    #[prost(uint32, optional, tag = "1")]
    pub r#type: Option<u32>,
    /// The value is null.
    #[prost(bool, optional, tag = "2")]
    pub is_null: Option<bool>,
    /// The value.
    #[prost(oneof = "PropertyValueValue", tags = "3, 4, 5, 6, 7, 8, 9, 10, 11")]
    pub value: Option<PropertyValueValue>,
}

/// The `value` oneof of [`PropertyValue`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum PropertyValueValue {
    /// 8 to 32-bit integers.
    #[prost(uint32, tag = "3")]
    IntValue(u32),
    /// 64-bit integers and DateTime.
    #[prost(uint64, tag = "4")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "5")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "6")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "7")]
    BooleanValue(bool),
    /// String or Text.
    #[prost(string, tag = "8")]
    StringValue(String),
    /// A nested property set.
    #[prost(message, tag = "9")]
    PropertysetValue(PropertySet),
    /// A list of property sets.
    #[prost(message, tag = "10")]
    PropertysetsValue(PropertySetList),
    /// Third-party extension.
    #[prost(message, tag = "11")]
    ExtensionValue(PropertyValueExtension),
}

/// `Payload.PropertyValue.PropertyValueExtension`: extension fields only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PropertyValueExtension {}

/// `Payload.DataSet`: a table.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSet {
    /// Number of columns.
    #[prost(uint64, optional, tag = "1")]
    pub num_of_columns: Option<u64>,
    /// Column names.
    #[prost(string, repeated, tag = "2")]
    pub columns: Vec<String>,
    /// Column [`DataType`] numbers (proto2 `repeated uint32`: not packed).
    #[prost(uint32, repeated, packed = "false", tag = "3")]
    pub types: Vec<u32>,
    /// Rows.
    #[prost(message, repeated, tag = "4")]
    pub rows: Vec<Row>,
}

/// `Payload.DataSet.Row`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Row {
    /// One value per column.
    #[prost(message, repeated, tag = "1")]
    pub elements: Vec<DataSetValue>,
}

/// `Payload.DataSet.DataSetValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSetValue {
    /// The value.
    #[prost(oneof = "DataSetValueValue", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<DataSetValueValue>,
}

/// The `value` oneof of [`DataSetValue`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DataSetValueValue {
    /// 8 to 32-bit integers.
    #[prost(uint32, tag = "1")]
    IntValue(u32),
    /// 64-bit integers and DateTime.
    #[prost(uint64, tag = "2")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "3")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "4")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "5")]
    BooleanValue(bool),
    /// String or Text.
    #[prost(string, tag = "6")]
    StringValue(String),
    /// Third-party extension.
    #[prost(message, tag = "7")]
    ExtensionValue(DataSetValueExtension),
}

/// `Payload.DataSet.DataSetValue.DataSetValueExtension`: extension fields only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataSetValueExtension {}

/// `Payload.Template`: a user-defined type (definition or instance).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Template {
    /// Version of the definition.
    #[prost(string, optional, tag = "1")]
    pub version: Option<String>,
    /// Member metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// Parameters.
    #[prost(message, repeated, tag = "3")]
    pub parameters: Vec<Parameter>,
    /// Name of the definition an instance refers to.
    #[prost(string, optional, tag = "4")]
    pub template_ref: Option<String>,
    /// This is a definition, not an instance.
    #[prost(bool, optional, tag = "5")]
    pub is_definition: Option<bool>,
}

/// `Payload.Template.Parameter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Parameter {
    /// Name.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// A [`DataType`] number.
    #[prost(uint32, optional, tag = "2")]
    pub r#type: Option<u32>,
    /// The value.
    #[prost(oneof = "ParameterValue", tags = "3, 4, 5, 6, 7, 8, 9")]
    pub value: Option<ParameterValue>,
}

/// The `value` oneof of [`Parameter`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ParameterValue {
    /// 8 to 32-bit integers.
    #[prost(uint32, tag = "3")]
    IntValue(u32),
    /// 64-bit integers and DateTime.
    #[prost(uint64, tag = "4")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "5")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "6")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "7")]
    BooleanValue(bool),
    /// String or Text.
    #[prost(string, tag = "8")]
    StringValue(String),
    /// Third-party extension.
    #[prost(message, tag = "9")]
    ExtensionValue(ParameterValueExtension),
}

/// `Payload.Template.Parameter.ParameterValueExtension`: extension fields only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ParameterValueExtension {}

/// Sparkplug B 3.0 datatypes: the numbers carried in [`Metric::datatype`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
#[allow(missing_docs)] // the variant names are the spec's
pub enum DataType {
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,
    DateTime = 13,
    Text = 14,
    Uuid = 15,
    DataSet = 16,
    Bytes = 17,
    File = 18,
    Template = 19,
    PropertySet = 20,
    PropertySetList = 21,
    Int8Array = 22,
    Int16Array = 23,
    Int32Array = 24,
    Int64Array = 25,
    UInt8Array = 26,
    UInt16Array = 27,
    UInt32Array = 28,
    UInt64Array = 29,
    FloatArray = 30,
    DoubleArray = 31,
    BooleanArray = 32,
    StringArray = 33,
    DateTimeArray = 34,
}

impl DataType {
    /// Every datatype, in number order.
    pub const ALL: [DataType; 35] = [
        DataType::Unknown,
        DataType::Int8,
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::UInt8,
        DataType::UInt16,
        DataType::UInt32,
        DataType::UInt64,
        DataType::Float,
        DataType::Double,
        DataType::Boolean,
        DataType::String,
        DataType::DateTime,
        DataType::Text,
        DataType::Uuid,
        DataType::DataSet,
        DataType::Bytes,
        DataType::File,
        DataType::Template,
        DataType::PropertySet,
        DataType::PropertySetList,
        DataType::Int8Array,
        DataType::Int16Array,
        DataType::Int32Array,
        DataType::Int64Array,
        DataType::UInt8Array,
        DataType::UInt16Array,
        DataType::UInt32Array,
        DataType::UInt64Array,
        DataType::FloatArray,
        DataType::DoubleArray,
        DataType::BooleanArray,
        DataType::StringArray,
        DataType::DateTimeArray,
    ];

    /// The datatype with number `n`, if Sparkplug B 3.0 defines one.
    pub fn from_u32(n: u32) -> Option<DataType> {
        DataType::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// The number sent in [`Metric::datatype`].
    pub fn number(self) -> u32 {
        self as u32
    }

    /// Which field of the [`MetricValue`] oneof carries a value of this type
    /// (SP6 "Data Types"); `None` for `Unknown` and the property-set types,
    /// which metrics do not carry.
    pub fn value_field(self) -> Option<ValueField> {
        use DataType as D;
        Some(match self {
            D::Int8 | D::Int16 | D::Int32 | D::UInt8 | D::UInt16 | D::UInt32 => ValueField::Int,
            D::Int64 | D::UInt64 | D::DateTime => ValueField::Long,
            D::Float => ValueField::Float,
            D::Double => ValueField::Double,
            D::Boolean => ValueField::Boolean,
            D::String | D::Text | D::Uuid => ValueField::String,
            D::Bytes
            | D::File
            | D::Int8Array
            | D::Int16Array
            | D::Int32Array
            | D::Int64Array
            | D::UInt8Array
            | D::UInt16Array
            | D::UInt32Array
            | D::UInt64Array
            | D::FloatArray
            | D::DoubleArray
            | D::BooleanArray
            | D::StringArray
            | D::DateTimeArray => ValueField::Bytes,
            D::DataSet => ValueField::DataSet,
            D::Template => ValueField::Template,
            D::Unknown | D::PropertySet | D::PropertySetList => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.number();
        match self {
            DataType::Uuid => write!(f, "UUID ({n})"),
            other => write!(f, "{other:?} ({n})"),
        }
    }
}

/// The fields of the [`MetricValue`] oneof, as kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueField {
    /// `int_value` (10).
    Int,
    /// `long_value` (11).
    Long,
    /// `float_value` (12).
    Float,
    /// `double_value` (13).
    Double,
    /// `boolean_value` (14).
    Boolean,
    /// `string_value` (15).
    String,
    /// `bytes_value` (16).
    Bytes,
    /// `dataset_value` (17).
    DataSet,
    /// `template_value` (18).
    Template,
    /// `extension_value` (19).
    Extension,
}

impl ValueField {
    /// The field a value travels in.
    pub fn of(v: &MetricValue) -> ValueField {
        match v {
            MetricValue::IntValue(_) => ValueField::Int,
            MetricValue::LongValue(_) => ValueField::Long,
            MetricValue::FloatValue(_) => ValueField::Float,
            MetricValue::DoubleValue(_) => ValueField::Double,
            MetricValue::BooleanValue(_) => ValueField::Boolean,
            MetricValue::StringValue(_) => ValueField::String,
            MetricValue::BytesValue(_) => ValueField::Bytes,
            MetricValue::DatasetValue(_) => ValueField::DataSet,
            MetricValue::TemplateValue(_) => ValueField::Template,
            MetricValue::ExtensionValue(_) => ValueField::Extension,
        }
    }

    /// The proto field name and number, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueField::Int => "int_value (10)",
            ValueField::Long => "long_value (11)",
            ValueField::Float => "float_value (12)",
            ValueField::Double => "double_value (13)",
            ValueField::Boolean => "boolean_value (14)",
            ValueField::String => "string_value (15)",
            ValueField::Bytes => "bytes_value (16)",
            ValueField::DataSet => "dataset_value (17)",
            ValueField::Template => "template_value (18)",
            ValueField::Extension => "extension_value (19)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn datatype_numbers_are_the_specs() {
        for (i, d) in DataType::ALL.iter().enumerate() {
            assert_eq!(d.number() as usize, i, "{d:?}");
            assert_eq!(DataType::from_u32(d.number()), Some(*d));
        }
        assert_eq!(DataType::from_u32(35), None);
        assert_eq!(DataType::from_u32(u32::MAX), None);
        assert_eq!(DataType::Float.number(), 9);
        assert_eq!(DataType::FloatArray.number(), 30);
        assert_eq!(DataType::Uuid.to_string(), "UUID (15)");
        assert_eq!(DataType::UInt64.to_string(), "UInt64 (8)");
    }

    /// Field numbers and wire types, checked against hand-computed bytes.
    #[test]
    fn wire_bytes_match_the_schema() {
        let m = Metric {
            name: Some("a".into()),
            timestamp: Some(1),
            datatype: Some(9),
            is_historical: Some(true),
            value: Some(MetricValue::FloatValue(1.0)),
            ..Default::default()
        };
        let p = Payload {
            timestamp: Some(2),
            metrics: vec![m],
            seq: Some(3),
            ..Default::default()
        };
        let bytes = p.encode_to_vec();
        #[rustfmt::skip]
        let want = [
            0x08, 2,                        // 1: timestamp varint
            0x12, 14,                       // 2: metrics, length 14
              0x0a, 1, b'a',                //   1: name
              0x18, 1,                      //   3: timestamp
              0x20, 9,                      //   4: datatype
              0x28, 1,                      //   5: is_historical
              0x65, 0, 0, 0x80, 0x3f,       //   12: float_value fixed32 (1.0f32)
            0x18, 3,                        // 3: seq
        ];
        assert_eq!(bytes, want);
        assert_eq!(Payload::decode(&bytes[..]).expect("decodes"), p);
    }

    #[test]
    fn every_value_field_has_its_tag() {
        let cases: [(MetricValue, u8); 7] = [
            (MetricValue::IntValue(1), 10 << 3),
            (MetricValue::LongValue(1), 11 << 3),
            (MetricValue::FloatValue(0.0), (12 << 3) | 5),
            (MetricValue::DoubleValue(0.0), (13 << 3) | 1),
            (MetricValue::BooleanValue(true), 14 << 3),
            (MetricValue::StringValue(String::new()), (15 << 3) | 2),
            (MetricValue::BytesValue(Vec::new()), (16 << 3) | 2),
        ];
        for (v, key) in cases {
            let m = Metric {
                value: Some(v.clone()),
                ..Default::default()
            };
            let bytes = m.encode_to_vec();
            assert_eq!(bytes[0], key, "{v:?}");
        }
        // Fields 17..19 need a two-byte key (tag ≥ 16).
        let m = Metric {
            value: Some(MetricValue::DatasetValue(DataSet::default())),
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec()[..2], [0x8a, 1]); // (17 << 3 | 2) as a varint
        let m = Metric {
            value: Some(MetricValue::TemplateValue(Template::default())),
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec()[..2], [0x92, 1]);
        let m = Metric {
            value: Some(MetricValue::ExtensionValue(MetricValueExtension {})),
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec()[..2], [0x9a, 1]);
    }

    #[test]
    fn dataset_types_are_not_packed() {
        let d = DataSet {
            types: vec![9, 12],
            ..Default::default()
        };
        assert_eq!(d.encode_to_vec(), [0x18, 9, 0x18, 12]);
    }
}
