//! The real-time trigger's timecode rate (099) types `ntsc` as
//! `SmpteTimeRepresentationRateNtsc`, `enum: ['ntsc']`, while that schema's own
//! description says: "Can be `"non_drop"` or `null`. If `null`, playback must
//! represent a whole-number value … If `"non_drop"`, playback must represent a valid
//! NTSC framerate, such as `[24000, 1001]`" (`002_ca67f33d460f59c7.txt:554`, char
//! 230586). Every example sends `"ntsc": "non_drop"` with `"playback": [24000, 1001]`:
//! the C2C real-time guide (char 83702) and the API reference's TypeScript and Python
//! snippets (char 236125; fixture `c2c/trigger_request.json`, defect D08). The value
//! is `non_drop`.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_ntsc_non_drop",
    quirk: "trigger timecode `ntsc` enum is `['ntsc']`; its description and every example say `non_drop`",
    apply: |doc, origins| {
        let at = edit::component("SmpteTimeRepresentationRateNtsc");
        let ntsc = edit::schema(doc, origins, &at)?;
        if ntsc.get("enum") != Some(&json!(["ntsc"])) {
            return Err(origins.error(&at, "the enum is no longer `['ntsc']`: remove this repair"));
        }
        ntsc.insert("enum".into(), json!(["non_drop"]));
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_value_is_non_drop() {
        let mut doc = json!({"components": {"schemas": {"SmpteTimeRepresentationRateNtsc": {"type": "string", "enum": ["ntsc"]}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"]["SmpteTimeRepresentationRateNtsc"]["enum"], json!(["non_drop"]));
    }
}
