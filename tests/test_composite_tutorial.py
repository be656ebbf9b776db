"""docs/composite_layers.md: its composite layers are right and its forgotten branch is caught."""
from doc_blocks import run_page


def test_the_composite_layers_are_right_and_the_forgotten_branch_is_caught():
    namespace, _ = run_page("composite_layers.md")
    assert [c.name for c in namespace["report"].failures] == ["gradient of input"]
    assert namespace["loss"].item() < 0.2 * namespace["points"].var()     # the tied autoencoder learned
