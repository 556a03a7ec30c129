"""The Coq sentence splitter agrees with Coq on the tricky cases."""
from coq_env.sentences import split_sentences, strip_comments


def texts(src, bullets=True):
    return [s.text for s in split_sentences(src, bullets=bullets)]


def test_periods_in_names_and_numbers_do_not_end_sentences():
    assert texts("rewrite Nat.add_0_r. exact (1.5)%R.") == ["rewrite Nat.add_0_r.", "exact (1.5)%R."]


def test_comments_and_strings():
    assert texts('idtac "a. b". (* c. d *) lia.') == ['idtac "a. b".', "lia."]
    assert strip_comments("a (* x (* nested *) y *) b") == "a   b"


def test_bullets_braces_and_ellipsis():
    assert texts("split.\n- lra.\n+apply H.\n{ lia. }\n2: { auto. }") == \
        ["split.", "-", "lra.", "+", "apply H.", "{", "lia.", "}", "2: {", "auto.", "}"]
    assert texts("auto... lia.") == ["auto...", "lia."]
    assert texts("Notation \"[ x ; .. ; y ]\" := (cons x .. (cons y nil) ..).") == \
        ["Notation \"[ x ; .. ; y ]\" := (cons x .. (cons y nil) ..)."]
