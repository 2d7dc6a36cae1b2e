"""Backbones, tasks, and the registration of every built-in model."""

from reczoo.models.autoint.autoint import AutoIntBackbone
from reczoo.models.backbone import Backbone
from reczoo.models.caser.caser import CaserBackbone
from reczoo.models.dcnv2.dcnv2 import DCNv2Backbone
from reczoo.models.deepfm.deepfm import DeepFMBackbone
from reczoo.models.din.din import DINBackbone
from reczoo.models.fm.fm import FMBackbone
from reczoo.models.gru4rec.gru4rec import GRU4RecBackbone
from reczoo.models.mlp.mlp import MLPBackbone
from reczoo.models.pnn.pnn import PNNBackbone
from reczoo.models.pop.pop import PopularityBackbone
from reczoo.models.sasrec.sasrec import SASRecBackbone
from reczoo.models.task import NextItem, Ranker, Task
from reczoo.models.xdeepfm.xdeepfm import XDeepFMBackbone
from reczoo.registry import register_model

register_model(
    "fm",
    backbone=FMBackbone,
    task=Ranker,
    family="factorization",
    paper="Rendle. Factorization Machines. ICDM 2010.",
    tags=("ctr", "rating", "factorization-machine"),
    description="Bias, linear term and pairwise factorized interactions of all fields.",
)
register_model(
    "mlp",
    backbone=MLPBackbone,
    task=Ranker,
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("ctr", "rating", "dnn"),
    description="A dense tower over the concatenated feature embeddings.",
)
register_model(
    "pop",
    backbone=PopularityBackbone,
    task=Ranker,
    family="baseline",
    paper="Cremonesi et al. Performance of Recommender Algorithms on Top-N Tasks. RecSys 2010.",
    tags=("baseline", "popularity"),
    description="Scores items by training-set popularity; set by adapt(), not trained.",
)
register_model(
    "deepfm",
    backbone=DeepFMBackbone,
    task=Ranker,
    family="factorization",
    paper="Guo et al. DeepFM: A Factorization-Machine based Neural Network for CTR Prediction. IJCAI 2017.",
    tags=("ctr", "factorization-machine", "dnn"),
    description="FM and a DNN on shared field embeddings, logits summed.",
)
register_model(
    "ipnn",
    backbone=PNNBackbone,
    task=Ranker,
    family="product",
    paper="Qu et al. Product-based Neural Networks for User Response Prediction. ICDM 2016.",
    tags=("ctr", "pnn", "product"),
    description="Inner products of all field pairs, with the embeddings, into a DNN.",
    defaults={"product": "inner"},
)
register_model(
    "opnn",
    backbone=PNNBackbone,
    task=Ranker,
    family="product",
    paper="Qu et al. Product-based Neural Networks for User Response Prediction. ICDM 2016.",
    tags=("ctr", "pnn", "product"),
    description="Outer product of the summed field embeddings (superposition form) into a DNN.",
    defaults={"product": "outer"},
)
register_model(
    "autoint",
    backbone=AutoIntBackbone,
    task=Ranker,
    family="attention",
    paper="Song et al. AutoInt: Automatic Feature Interaction Learning via Self-Attentive Neural Networks. CIKM 2019.",
    tags=("ctr", "self-attention"),
    description="Multi-head self-attention across fields with residuals.",
)
register_model(
    "autoint_plus",
    backbone=AutoIntBackbone,
    task=Ranker,
    family="attention",
    paper="Song et al. AutoInt: Automatic Feature Interaction Learning via Self-Attentive Neural Networks. CIKM 2019.",
    tags=("ctr", "self-attention", "dnn"),
    description="AutoInt+: AutoInt with a parallel DNN branch.",
    defaults={"dnn_hidden_units": (400, 400, 400)},
)
register_model(
    "dcnv2",
    backbone=DCNv2Backbone,
    task=Ranker,
    family="cross",
    paper="Wang et al. DCN V2: Improved Deep & Cross Network. WWW 2021.",
    tags=("ctr", "cross-network", "dnn"),
    description="keras-rs FeatureCross layers beside a DNN.",
)
register_model(
    "xdeepfm",
    backbone=XDeepFMBackbone,
    task=Ranker,
    family="factorization",
    paper="Lian et al. xDeepFM: Combining Explicit and Implicit Feature Interactions. KDD 2018.",
    tags=("ctr", "cin", "dnn"),
    description="Linear term, compressed interaction network and DNN, summed.",
)
register_model(
    "din",
    backbone=DINBackbone,
    task=Ranker,
    family="attention",
    paper="Zhou et al. Deep Interest Network for Click-Through Rate Prediction. KDD 2018.",
    tags=("ctr", "target-attention", "sequence"),
    description="Target attention pools the behaviour history for each candidate.",
)
register_model(
    "sasrec",
    backbone=SASRecBackbone,
    task=NextItem,
    family="attention",
    paper="Kang & McAuley. Self-Attentive Sequential Recommendation. ICDM 2018.",
    tags=("sequential", "next-item", "self-attention", "transformer"),
    description="Causal self-attention blocks over the history, tied item embeddings.",
    # The paper's Games configuration: d=50, L=50, batch 128, BCE, Adam 1e-3
    # with beta_2 0.98 as in the paper's code. The paper's code evaluates
    # every 20 epochs; every 10 here, stopping after 3 evaluations without a
    # gain.
    compile_defaults={
        "optimizer": {"class_name": "Adam", "config": {"learning_rate": 1e-3, "beta_2": 0.98}}
    },
    run_defaults={
        "embedding_dim": 50,
        "max_length": 50,
        "batch_size": 128,
        "epochs": 200,
        "eval_every": 10,
    },
)
register_model(
    "gru4rec",
    backbone=GRU4RecBackbone,
    task=NextItem,
    family="recurrent",
    paper="Hidasi et al. Session-based Recommendations with Recurrent Neural Networks. ICLR 2016.",
    tags=("sequential", "next-item", "rnn"),
    description="A GRU over the history; each state scores the next item.",
    run_defaults={"embedding_dim": 50, "max_length": 50, "batch_size": 128, "epochs": 100},
)
register_model(
    "caser",
    backbone=CaserBackbone,
    task=NextItem,
    family="convolutional",
    paper="Tang & Wang. Personalized Top-N Sequential Recommendation via Convolutional Sequence Embedding. WSDM 2018.",
    tags=("sequential", "next-item", "cnn"),
    description="Horizontal and vertical convolutions over the last L items, with a user embedding.",
    # The paper's setting: d=50, L=5.
    run_defaults={"embedding_dim": 50, "max_length": 5, "batch_size": 512, "epochs": 50},
)

__all__ = [
    "AutoIntBackbone",
    "Backbone",
    "CaserBackbone",
    "DCNv2Backbone",
    "DINBackbone",
    "DeepFMBackbone",
    "FMBackbone",
    "GRU4RecBackbone",
    "MLPBackbone",
    "NextItem",
    "PNNBackbone",
    "PopularityBackbone",
    "Ranker",
    "SASRecBackbone",
    "Task",
    "XDeepFMBackbone",
]
