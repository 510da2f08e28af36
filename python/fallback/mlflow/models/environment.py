"""The environment files MLflow saves beside a model: conda.yaml,
python_env.yaml and requirements.txt, with the versions of this interpreter."""

import os
import platform

CONDA_FILE = "conda.yaml"
PYTHON_ENV_FILE = "python_env.yaml"
REQUIREMENTS_FILE = "requirements.txt"


def _installed_version(distribution):
    try:
        from importlib.metadata import version
        return version(distribution)
    except Exception:
        return None


def _pinned(distribution, version=None):
    version = version or _installed_version(distribution)
    return "%s==%s" % (distribution, version) if version else distribution


def default_requirements(*distributions):
    """``mlflow==X``, then ``name==version`` of each installed distribution in
    name order, as MLflow's writer orders requirements.txt."""
    from mlflow import __version__
    return [_pinned("mlflow", __version__)] + sorted(_pinned(d) for d in distributions)


def write_environment(path, requirements):
    """Writes the three files into the model folder ``path``."""
    import yaml
    python = platform.python_version()
    pip = _installed_version("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": ["python=%s" % python, "pip<=%s" % pip if pip else "pip", {"pip": list(requirements)}],
        "name": "mlflow-env",
    }
    python_env = {
        "python": python,
        "build_dependencies": [_pinned(d) for d in ("pip", "setuptools", "wheel")],
        "dependencies": ["-r requirements.txt"],
    }
    with open(os.path.join(path, CONDA_FILE), "w") as out:
        yaml.safe_dump(conda, out, default_flow_style=False)
    with open(os.path.join(path, PYTHON_ENV_FILE), "w") as out:
        yaml.safe_dump(python_env, out, default_flow_style=False, sort_keys=False)
    with open(os.path.join(path, REQUIREMENTS_FILE), "w") as out:
        out.write("\n".join(requirements))
    return {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}
