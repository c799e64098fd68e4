//! The toxic-message classifier: two models behind one interface, for the bullying, harassment and hate that
//! lexicons miss ("nobody at school wants you here").
//!
//! - **`haven-toxic-fast`**, every message, six languages: hashed word and character n-grams
//!   ([`features`], computed here exactly as the training pipeline computes them) into two calibrated logistic
//!   heads, `abusive` and `hate`. The ONNX file (2 MB) is compiled into Haven, so only the ONNX Runtime library
//!   has to be installed.
//! - **`haven-toxic-minilm`**, English: the all-MiniLM-L6-v2 int8 sentence encoder with the same two heads on
//!   its mean-pooled embedding, the `abusive` one joined with a token head (a soft maximum over every token's
//!   score, so one insulting word is not averaged away), for more precision where it pays. It is installed by
//!   `scripts/fetch-models.sh` and loaded only when [`TextClassifierConfig::transformer`] asks for it.
//!
//! **Routing**: the message's language is the one the app gives, else [`detect_language`] (script, then
//! `whatlang` among English, French and Spanish for Latin script). English messages get the mean of both
//! models' scores when the transformer is loaded (it beats either alone on the English dev sets, see
//! `models/haven-toxic-fast/MODEL_CARD.md`); everything else gets the fast model's scores.
//!
//! **Thresholds**: each manifest maps `abusive` to [`Category::Bullying`] and `hate` to [`Category::Hate`], with a
//! threshold per age tier (lower for younger children). The profile decides what happens: block and point to
//! help for children under 13, warn for teenagers, nothing for adults. The thresholds where the profile blocks
//! keep false positives on benign English conversation at or under 2 %.
//!
//! **With the lexicon engine**: [`crate::Haven::check_text`] and [`crate::Haven::check_conversation`] add these
//! findings to the lexicon's, so one verdict carries both kinds of evidence (engine `classifier` next to engine
//! `text`). Without a runtime, [`crate::Haven`] has no text classifier and its verdicts say so in a
//! `classifier-unavailable` evidence note; the lexicon engine works as before.
//!
//! [`Category::Bullying`]: crate::policy::Category::Bullying
//! [`Category::Hate`]: crate::policy::Category::Hate

pub mod features;
mod language;
mod model;

pub use language::detect_language;
pub use model::{
    FAST_MODEL_ID, MINILM_MODEL_ID, NOTE_FAILED, NOTE_UNAVAILABLE, TextAssessment, TextClassifier,
    TextClassifierConfig, TextModel, note,
};
