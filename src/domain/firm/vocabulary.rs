//! The closed vocabularies that describe a firm (city, tier, venue, NEEQ layer, tax credit grade)
//! and `vocabulary!`, the macro every closed vocabulary of the service is declared with.

/// Declares a closed vocabulary once: the Rust enum, its wire spelling and its Chinese label.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        // Written by hand: the derive does not see serde renames that come from macro arguments.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .description(Some(concat!($($wire, " = ", $label, "; "),+)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl crate::domain::Vocabulary for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn wire(self) -> &'static str {
                self.as_str()
            }
            fn zh(self) -> &'static str {
                self.label_zh()
            }
        }

        impl crate::domain::VocabularyValue for $name {
            type Value = $name;
            fn vocabulary_value(&self) -> $name {
                *self
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(crate::domain::UnknownValue {
                        allowed: &[$($wire),+],
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// Shandong's 16 prefecture-level cities.
    City {
        Jinan = "jinan" / "济南",
        Qingdao = "qingdao" / "青岛",
        Zibo = "zibo" / "淄博",
        Zaozhuang = "zaozhuang" / "枣庄",
        Dongying = "dongying" / "东营",
        Yantai = "yantai" / "烟台",
        Weifang = "weifang" / "潍坊",
        Jining = "jining" / "济宁",
        Taian = "taian" / "泰安",
        Weihai = "weihai" / "威海",
        Rizhao = "rizhao" / "日照",
        Linyi = "linyi" / "临沂",
        Dezhou = "dezhou" / "德州",
        Liaocheng = "liaocheng" / "聊城",
        Binzhou = "binzhou" / "滨州",
        Heze = "heze" / "菏泽",
    }
);

impl City {
    /// GB/T 2260 prefecture code (first four digits, e.g. 3701 for 济南).
    pub fn region_prefix(self) -> &'static str {
        match self {
            City::Jinan => "3701",
            City::Qingdao => "3702",
            City::Zibo => "3703",
            City::Zaozhuang => "3704",
            City::Dongying => "3705",
            City::Yantai => "3706",
            City::Weifang => "3707",
            City::Jining => "3708",
            City::Taian => "3709",
            City::Weihai => "3710",
            City::Rizhao => "3711",
            City::Linyi => "3713",
            City::Dezhou => "3714",
            City::Liaocheng => "3715",
            City::Binzhou => "3716",
            City::Heze => "3717",
        }
    }

    /// The city of a GB/T 2260 region code. 莱芜 (3712xx) was merged into 济南 in 2019, and codes
    /// issued before then never change, so they still name 济南.
    pub fn from_region_code(code: &str) -> Option<City> {
        let prefix = code.get(0..4)?;
        if prefix == "3712" {
            return Some(City::Jinan);
        }
        City::ALL.iter().copied().find(|c| c.region_prefix() == prefix)
    }
}

vocabulary!(
    /// MIIT quality-SME ladder (梯度培育).
    Tier {
        InnovativeSme = "innovative_sme" / "创新型中小企业",
        ProvincialSrdi = "provincial_srdi" / "省级专精特新中小企业",
        LittleGiant = "little_giant" / "国家级专精特新\"小巨人\"企业",
    }
);

vocabulary!(
    /// Listing venues a firm can target.
    Venue {
        Bse = "bse" / "北京证券交易所",
        Star = "star" / "上交所科创板",
        Chinext = "chinext" / "深交所创业板",
        Neeq = "neeq" / "全国股转系统(新三板)",
        RegionalSrdiBoard = "regional_srdi_board" / "齐鲁股权交易中心专精特新专板",
    }
);

vocabulary!(
    /// NEEQ layer of a quoted firm.
    NeeqLayer {
        Basic = "basic" / "基础层",
        Innovation = "innovation" / "创新层",
    }
);

vocabulary!(
    /// Tax credit grade (纳税信用等级), published yearly.
    TaxCreditGrade {
        A = "A" / "A级",
        B = "B" / "B级",
        M = "M" / "M级",
        C = "C" / "C级",
        D = "D" / "D级",
    }
);
